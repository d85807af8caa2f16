using System.Buffers.Binary;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

public class SnapshotTreeTests
{
    private static readonly ChunkId A = ChunkId.Of("a"u8);
    private static readonly ChunkId B = ChunkId.Of("b"u8);

    internal static List<TreeEntry> Sample() =>
    [
        new("docs", EntryKind.Directory, 0, 1_600_000_000_000_000_000, 0x41ED, []),
        new("docs/empty.txt", EntryKind.File, 0, 1_600_000_000_123_456_700, 0x81A4, []),
        new("docs/two-chunks.bin", EntryKind.File, 123_456, -5_000_000_000, 0x81A4, [A, B]),
        new("docs/Données/été 😀.txt", EntryKind.File, 1, long.MaxValue, uint.MaxValue, [A]),
        new("docs/日本語", EntryKind.Directory, 0, 0, 0, []),
        new("docs/big", EntryKind.File, 5L << 32, 1, 0x81A4, Enumerable.Repeat(B, 1000).ToArray()),
    ];

    private static void AssertSame(IReadOnlyList<TreeEntry> expected, IReadOnlyList<TreeEntry> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Path, actual[i].Path);
            Assert.Equal(expected[i].Kind, actual[i].Kind);
            Assert.Equal(expected[i].Size, actual[i].Size);
            Assert.Equal(expected[i].MtimeUnixNs, actual[i].MtimeUnixNs);
            Assert.Equal(expected[i].Mode, actual[i].Mode);
            Assert.Equal(expected[i].Chunks, actual[i].Chunks);
        }
    }

    [Fact]
    public void A_tree_round_trips_with_empty_files_unicode_paths_and_directories()
    {
        var entries = Sample();
        AssertSame(entries, SnapshotTree.Parse(SnapshotTree.Serialize(entries)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void The_streamed_encoding_read_in_any_piece_size_is_the_tree_and_ends_with_zero(int piece)
    {
        var entries = Sample();
        using var stream = SnapshotTree.OpenRead(entries);
        var read = new List<byte>();
        var sizes = new List<int>();
        var buffer = new byte[piece];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            sizes.Add(n);
            read.AddRange(buffer.AsSpan(0, n));
        }

        // Every read fills the buffer but the last: the chunker sees no short reads mid-tree.
        Assert.All(sizes[..^1], size => Assert.Equal(piece, size));
        Assert.Equal(0, stream.Read(buffer));
        Assert.Equal(SnapshotTree.Serialize(entries), read);
        AssertSame(entries, SnapshotTree.Parse(read.ToArray()));
    }

    [Fact]
    public void An_empty_tree_round_trips()
    {
        Assert.Empty(SnapshotTree.Parse(SnapshotTree.Serialize([])));
    }

    [Fact]
    public void Golden_bytes_of_a_one_entry_tree()
    {
        var bytes = SnapshotTree.Serialize([new TreeEntry("a", EntryKind.File, 3, 1, 0x1A4, [ChunkId.Of("abc"u8)])]);

        var expected = Convert.FromHexString(
            "4352444C54524545" // "CRDLTREE"
            + "0100" // version 1
            + "01" // one entry
            + "01" + "61" // path "a"
            + "00" // file
            + "03" // size 3
            + "0100000000000000" // mtime 1 ns
            + "A403" // mode 0644 as a varint
            + "01" // one chunk
            + "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Every_truncation_throws_StoreFormatException()
    {
        var bytes = SnapshotTree.Serialize(Sample());
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Trailing_bytes_throw_StoreFormatException()
    {
        var bytes = SnapshotTree.Serialize(Sample()).Append((byte)0).ToArray();
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes));
        Assert.Contains("after its last entry", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_throws_StoreFormatException()
    {
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(TestData.Bytes(31, 4096)));
        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Damaged_trees_throw_only_StoreFormatException()
    {
        // Flip bytes of a valid tree at seeded places: whatever the damage, it is reported as
        // a format error, never as an overflow, an index error or an allocation failure.
        var valid = SnapshotTree.Serialize(Sample());
        var noise = TestData.Bytes(32, 3 * 4000);
        for (var i = 0; i < 4000; i++)
        {
            var damaged = (byte[])valid.Clone();
            var position = (BinaryPrimitives.ReadUInt16LittleEndian(noise.AsSpan(i * 3)) % (damaged.Length - 10)) + 10;
            damaged[position] ^= (byte)(noise[(i * 3) + 2] | 1);
            try
            {
                SnapshotTree.Parse(damaged);
            }
            catch (StoreFormatException)
            {
                // Expected for most damage; a flip inside a chunk id or an mtime parses fine.
            }
        }
    }

    [Fact]
    public void An_unknown_version_is_refused()
    {
        var bytes = SnapshotTree.Serialize(Sample());
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), SnapshotTree.LinksVersion + 1);
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes));
        Assert.Contains($"version {SnapshotTree.LinksVersion + 1}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_entry_kind_is_refused()
    {
        var bytes = SnapshotTree.Serialize([new TreeEntry("a", (EntryKind)5, 0, 0, 0, [])]);
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes));
        Assert.Contains("unknown kind 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_count_over_the_limit_is_refused_without_allocating_for_it()
    {
        var hostile = Header(int.MaxValue);
        Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(Header(0).Concat(new byte[] { 1 }).ToArray())); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(hostile));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 256 * 1024, $"refusing a hostile count allocated {allocated} bytes");
    }

    [Fact]
    public void An_entry_count_at_the_limit_with_no_entries_fails_without_allocating_for_the_count()
    {
        var hostile = Header(SnapshotTree.MaxEntries);
        Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(Header(0).Concat(new byte[] { 1 }).ToArray())); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(hostile));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // 10 million entries would need hundreds of MB; the reader grows the list as entries arrive.
        Assert.True(allocated < 4 * 1024 * 1024, $"a 14-byte tree claiming {SnapshotTree.MaxEntries} entries allocated {allocated} bytes");
    }

    [Fact]
    public void A_chunk_count_larger_than_the_data_left_is_refused()
    {
        var bytes = SnapshotTree.Serialize([new TreeEntry("a", EntryKind.File, 0, 0, 0, [A])]);
        // The chunk count sits right before the one 32-byte id; claim 2 ids.
        bytes[^33] = 2;
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes));
        Assert.Contains("limit", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\b")]
    [InlineData("a//b")]
    public void A_tree_with_an_unsafe_path_is_refused(string path)
    {
        var bytes = SnapshotTree.Serialize([new TreeEntry("ok", EntryKind.Directory, 0, 0, 0, []), new TreeEntry(path, EntryKind.File, 0, 0, 0, [])]);
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes));
        Assert.Contains("entry 1 has a refused path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tree_without_hard_links_is_written_as_version_1_and_one_with_a_link_as_version_2_that_keeps_it()
    {
        var plain = SnapshotTree.Serialize(Sample());
        Assert.Equal(SnapshotTree.Version, BinaryPrimitives.ReadUInt16LittleEndian(plain.AsSpan(8)));

        var linked = Sample();
        linked.Add(new TreeEntry("docs/same-as-two-chunks.bin", EntryKind.File, 123_456, -5_000_000_000, 0x81A4, [A, B]) { LinkTo = "docs/two-chunks.bin" });
        var bytes = SnapshotTree.Serialize(linked);
        Assert.Equal(SnapshotTree.LinksVersion, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)));
        var parsed = SnapshotTree.Parse(bytes);
        AssertSame(linked, parsed);
        Assert.Equal("docs/two-chunks.bin", parsed[^1].LinkTo);
        Assert.All(parsed.SkipLast(1), e => Assert.Null(e.LinkTo));
        // The entries without a link are encoded as version 1 encodes them.
        Assert.Equal(plain.AsSpan(10 + 1).ToArray(), bytes.AsSpan(10 + 1, plain.Length - 11).ToArray());
    }

    [Fact]
    public void The_tree_builder_writes_version_2_only_when_an_entry_is_a_hard_link()
    {
        static ushort VersionOf(IEnumerable<TreeEntry> entries)
        {
            using var builder = new TreeBuilder(Path.Combine(Path.GetTempPath(), "cradle-tree-tests"));
            foreach (var e in entries)
            {
                builder.Add(e);
            }

            using var stream = builder.OpenRead();
            var head = new byte[10];
            stream.ReadExactly(head);
            return BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8));
        }

        Assert.Equal(SnapshotTree.Version, VersionOf(Sample()));
        Assert.Equal(SnapshotTree.LinksVersion, VersionOf([.. Sample(), new TreeEntry("docs/again", EntryKind.File, 1, 0, 0, [A]) { LinkTo = "docs/Données/été 😀.txt" }]));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("docs/x")]
    public void A_hard_link_to_a_refused_path_or_to_itself_is_refused(string linkTo)
    {
        var bytes = SnapshotTree.Serialize([new TreeEntry("docs/x", EntryKind.File, 0, 0, 0, []) { LinkTo = linkTo }]);
        var e = Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes));
        Assert.Contains("hard link to a refused path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_version_1_tree_or_a_folder_marked_as_a_hard_link_is_refused_as_damaged()
    {
        var bytes = SnapshotTree.Serialize([new TreeEntry("docs/x", EntryKind.File, 0, 0, 0, []) { LinkTo = "docs/y" }]);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), SnapshotTree.Version);
        Assert.Contains("marked a hard link", Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(bytes)).Message, StringComparison.Ordinal);

        var folder = SnapshotTree.Serialize([new TreeEntry("docs/x", EntryKind.File, 0, 0, 0, []) { LinkTo = "docs/y" }]);
        var kindAt = 8 + 2 + 1 + 1 + "docs/x".Length;
        folder[kindAt] = 0x80 | (byte)EntryKind.Directory;
        Assert.Contains("marked a hard link", Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(folder)).Message, StringComparison.Ordinal);
    }

    private static byte[] Header(int count)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("CRDLTREE"u8);
            w.Write((ushort)1);
            w.Write7BitEncodedInt(count);
        }

        return buffer.ToArray();
    }
}
