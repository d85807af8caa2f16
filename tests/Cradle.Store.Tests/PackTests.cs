using System.Buffers.Binary;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

public sealed class PackTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Header_golden_bytes()
    {
        var header = new byte[PackFormat.HeaderLength];
        PackFormat.WriteHeader(header, Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"));

        Assert.Equal(
            Convert.FromHexString("4352444C5041434B" + "0200" + "0000" + "33221100554477668899AABBCCDDEEFF"),
            header);
    }

    [Fact]
    public void Record_header_golden_bytes()
    {
        var header = new byte[PackFormat.RecordHeaderLength];
        PackFormat.WriteRecordHeader(header, ChunkCompression.Zstd, 5, 7, ChunkId.Of("abc"u8));

        Assert.Equal(
            Convert.FromHexString("01" + "05000000" + "07000000" + "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
            header);
    }

    [Fact]
    public void Group_header_golden_bytes()
    {
        var header = new byte[PackFormat.GroupHeaderLength + (2 * PackFormat.GroupMemberLength)];
        PackFormat.WriteGroupHeader(header, 9, 12, [(ChunkId.Of("abc"u8), 5), (ChunkId.Of(""u8), 7)]);

        Assert.Equal(
            Convert.FromHexString("02" + "09000000" + "0C000000" + "02000000"
                + "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD" + "05000000"
                + "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855" + "07000000"),
            header);
    }

    [Fact]
    public async Task Grouped_chunks_are_one_zstd_frame_behind_their_member_table_and_every_member_is_in_the_footer()
    {
        using var codec = new ChunkCodec();
        var members = Enumerable.Range(0, 5).Select(i => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"line {i} of a log that repeats itself\n", 300 + i)))).ToList();
        var incompressible = TestData.Bytes(22, 30_000);
        var writer = PackWriter.Create(new FolderPackStorage(_temp["packs"]));
        foreach (var member in members)
        {
            await writer.AppendGroupedAsync(ChunkId.Of(member), member, CancellationToken.None);
        }

        await writer.AppendAsync(ChunkId.Of(incompressible), ChunkCompression.None, incompressible, incompressible.Length, CancellationToken.None);
        Assert.Equal(6, writer.Count);
        await writer.SealAsync(CancellationToken.None);
        await writer.DisposeAsync();

        var bytes = await File.ReadAllBytesAsync(Path.Combine(_temp["packs"], writer.Name));
        Assert.Equal(6, writer.Entries.Count);
        var grouped = writer.Entries.Where(e => e.Compression == ChunkCompression.ZstdGroup).ToList();
        Assert.Equal(members.Select(m => ChunkId.Of(m)), grouped.Select(e => e.Id));
        Assert.Single(grouped.Select(e => (e.Offset, e.StoredLength)).Distinct());

        // The group record: its table names the members in order, its frame is their bytes.
        var record = bytes.AsSpan((int)grouped[0].Offset, grouped[0].StoredLength);
        var table = PackFormat.ReadGroup(record, grouped[0].Offset);
        Assert.Equal(members.Select(m => ChunkId.Of(m)), table.Ids);
        var raw = new byte[table.RawLength];
        codec.Decompress(ChunkCompression.Zstd, record[table.FrameOffset..], raw);
        Assert.Equal(members.SelectMany(m => m).ToArray(), raw);
        Assert.True(record.Length < raw.Length / 10, $"a group of repeating lines: {record.Length} stored bytes for {raw.Length}");
        Assert.Equal(members[3], raw[table.Find(ChunkId.Of(members[3]))!.Value]);

        // Every chunk is in the footer: the group's members with the group's offset and length.
        var tail = bytes.AsSpan(bytes.Length - PackFormat.TailLength);
        Assert.Equal(6, BinaryPrimitives.ReadInt32LittleEndian(tail));
        var footerOffset = BinaryPrimitives.ReadInt64LittleEndian(tail[4..]);
        for (var i = 0; i < writer.Entries.Count; i++)
        {
            var f = bytes.AsSpan((int)footerOffset + (i * PackFormat.FooterEntryLength), PackFormat.FooterEntryLength);
            var entry = writer.Entries[i];
            Assert.Equal((entry.Id, entry.Offset, entry.StoredLength, entry.RawLength, (byte)entry.Compression), (ChunkId.Read(f[..32]), BinaryPrimitives.ReadInt64LittleEndian(f[32..]), BinaryPrimitives.ReadInt32LittleEndian(f[40..]), BinaryPrimitives.ReadInt32LittleEndian(f[44..]), f[48]));
        }
    }

    [Fact]
    public async Task A_group_is_written_once_it_reaches_the_target_size_and_a_lone_member_is_an_ordinary_record()
    {
        var writer = PackWriter.Create(new FolderPackStorage(_temp["packs"]));
        var chunk = 0;
        while (writer.Entries.Count == 0)
        {
            var raw = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"chunk {chunk++} ", 20_000)));
            await writer.AppendGroupedAsync(ChunkId.Of(raw), raw, CancellationToken.None);
            Assert.True(chunk * raw.Length <= PackFormat.GroupMaxSize, "the group was not written at its target size");
        }

        Assert.All(writer.Entries, e => Assert.Equal(ChunkCompression.ZstdGroup, e.Compression));
        Assert.Equal(chunk, writer.Entries.Count);
        var lone = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("alone ", 1000)));
        await writer.AppendGroupedAsync(ChunkId.Of(lone), lone, CancellationToken.None);
        await writer.SealAsync(CancellationToken.None);
        await writer.DisposeAsync();
        Assert.Equal(ChunkCompression.Zstd, writer.Entries[^1].Compression);
        Assert.Equal(lone.Length, writer.Entries[^1].RawLength);
    }

    [Fact]
    public async Task A_group_of_tiny_chunks_is_closed_at_the_most_members_a_reader_accepts()
    {
        var writer = PackWriter.Create(new FolderPackStorage(_temp["packs"]));
        for (var i = 0; i < PackFormat.GroupMaxMembers + 5; i++)
        {
            var raw = BitConverter.GetBytes(i);
            await writer.AppendGroupedAsync(ChunkId.Of(raw), raw, CancellationToken.None);
        }

        await writer.SealAsync(CancellationToken.None);
        await writer.DisposeAsync();

        var bytes = await File.ReadAllBytesAsync(Path.Combine(_temp["packs"], writer.Name));
        var groups = writer.Entries.Where(e => e.Compression == ChunkCompression.ZstdGroup).GroupBy(e => (e.Offset, e.StoredLength)).ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal(PackFormat.GroupMaxMembers, groups[0].Count());
        foreach (var group in groups)
        {
            var table = PackFormat.ReadGroup(bytes.AsSpan((int)group.Key.Offset, group.Key.StoredLength), group.Key.Offset);
            Assert.Equal(group.Select(e => e.Id), table.Ids);
        }
    }

    [Theory]
    [InlineData("count 0")]
    [InlineData("members past the group")]
    [InlineData("members short of the group")]
    [InlineData("length")]
    public void An_inconsistent_group_record_is_refused(string damage)
    {
        var record = new byte[PackFormat.GroupHeaderLength + (2 * PackFormat.GroupMemberLength) + 9];
        PackFormat.WriteGroupHeader(record, 9, 12, [(ChunkId.Of("a"u8), 5), (ChunkId.Of("b"u8), 7)]);
        Assert.Equal(12, PackFormat.ReadGroup(record, 28).RawLength);
        switch (damage)
        {
            case "count 0":
                BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(9), 0);
                break;
            case "members past the group":
                BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(PackFormat.GroupHeaderLength + PackFormat.GroupMemberLength + 32), 8);
                break;
            case "members short of the group":
                BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(PackFormat.GroupHeaderLength + PackFormat.GroupMemberLength + 32), 6);
                break;
            default:
                record = record[..^1];
                break;
        }

        var e = Assert.Throws<StoreFormatException>(() => PackFormat.ReadGroup(record, 28));
        Assert.Contains("offset 28", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PackWriter_writes_header_records_and_footer_that_read_back()
    {
        using var codec = new ChunkCodec();
        var contents = new[] { TestData.Text(100_000), TestData.Bytes(21, 70_000), Encoding.UTF8.GetBytes("small"), [] };
        var packs = _temp["packs"];

        var writer = PackWriter.Create(new FolderPackStorage(packs));
        var appended = new List<(PackEntry Entry, byte[] Raw, byte[] Stored)>();
        foreach (var raw in contents)
        {
            var (compression, data) = codec.Compress(raw);
            var stored = data.ToArray();
            appended.Add((await writer.AppendAsync(ChunkId.Of(raw), compression, stored, raw.Length, CancellationToken.None), raw, stored));
        }

        await writer.SealAsync(CancellationToken.None);
        await writer.DisposeAsync();

        Assert.Matches("^[0-9a-f]{2}/[0-9a-f]{32}\\.pack$", writer.Name);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(packs, writer.Name));
        Assert.Equal(writer.Length, bytes.Length);

        // Header: magic, version, and the id the file is named after.
        var id = PackFormat.ReadHeader(bytes, writer.Name);
        Assert.Equal(Path.GetFileNameWithoutExtension(writer.Name), id.ToString("N"));
        Assert.Equal(writer.Name[..2], id.ToString("N")[..2]);

        // Records: each header read back, each payload where the entry says.
        var offset = (long)PackFormat.HeaderLength;
        foreach (var (entry, raw, stored) in appended)
        {
            Assert.Equal(offset, entry.Offset);
            var read = PackFormat.ReadRecordHeader(bytes.AsSpan((int)entry.Offset, PackFormat.RecordHeaderLength), entry.Offset);
            Assert.Equal(entry, read);
            Assert.Equal(ChunkId.Of(raw), read.Id);
            Assert.Equal(raw.Length, read.RawLength);
            Assert.Equal(stored, bytes.AsSpan((int)read.DataOffset, read.StoredLength).ToArray());
            offset = read.DataOffset + read.StoredLength;
        }

        Assert.Equal(ChunkCompression.Zstd, appended[0].Entry.Compression);
        Assert.Equal(ChunkCompression.None, appended[1].Entry.Compression);

        // Footer: one index entry per record, then count, footer offset and the end magic.
        var tail = bytes.AsSpan(bytes.Length - PackFormat.TailLength);
        Assert.Equal("CRDLEND1", Encoding.ASCII.GetString(tail[12..]));
        Assert.Equal(contents.Length, BinaryPrimitives.ReadInt32LittleEndian(tail));
        var footerOffset = BinaryPrimitives.ReadInt64LittleEndian(tail[4..]);
        Assert.Equal(offset, footerOffset);
        Assert.Equal(bytes.Length - PackFormat.TailLength, footerOffset + (contents.Length * PackFormat.FooterEntryLength));
        for (var i = 0; i < appended.Count; i++)
        {
            var f = bytes.AsSpan((int)footerOffset + (i * PackFormat.FooterEntryLength), PackFormat.FooterEntryLength);
            var entry = appended[i].Entry;
            Assert.Equal(entry.Id, ChunkId.Read(f[..32]));
            Assert.Equal(entry.Offset, BinaryPrimitives.ReadInt64LittleEndian(f[32..]));
            Assert.Equal(entry.StoredLength, BinaryPrimitives.ReadInt32LittleEndian(f[40..]));
            Assert.Equal(entry.RawLength, BinaryPrimitives.ReadInt32LittleEndian(f[44..]));
            Assert.Equal((byte)entry.Compression, f[48]);
        }
    }

    [Fact]
    public void An_unknown_pack_version_is_refused_with_a_clear_message()
    {
        var header = new byte[PackFormat.HeaderLength];
        PackFormat.WriteHeader(header, Guid.NewGuid());
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), 3);

        var e = Assert.Throws<StoreFormatException>(() => PackFormat.ReadHeader(header, "ab/cdef.pack"));
        Assert.Contains("ab/cdef.pack", e.Message, StringComparison.Ordinal);
        Assert.Contains("version 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("versions 1 to 2 only", e.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_pack_is_refused()
    {
        var e = Assert.Throws<StoreFormatException>(() => PackFormat.ReadHeader(Encoding.ASCII.GetBytes("PK\x03\x04 this is a zip file, not a pack"), "x.pack"));
        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
        Assert.Throws<StoreFormatException>(() => PackFormat.ReadHeader("CRDLPACK"u8, "short.pack"));
    }

    [Theory]
    [InlineData(0u, (1024u * 1024u) + 1u)]
    [InlineData((2u * 1024u * 1024u) + 1u, 10u)]
    [InlineData(uint.MaxValue, uint.MaxValue)]
    public void A_record_claiming_more_than_the_limits_is_refused(uint stored, uint raw)
    {
        var header = new byte[PackFormat.RecordHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(1), stored);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(5), raw);

        var e = Assert.Throws<StoreFormatException>(() => PackFormat.ReadRecordHeader(header, 1234));
        Assert.Contains("1234", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsealed_pack_is_deleted_when_abandoned()
    {
        var packs = _temp["packs"];
        var writer = PackWriter.Create(new FolderPackStorage(packs));
        await writer.AppendAsync(ChunkId.Of("x"u8), ChunkCompression.None, "x"u8.ToArray(), 1, CancellationToken.None);
        var path = Path.Combine(packs, writer.Name);
        Assert.True(File.Exists(path));

        await writer.DisposeAsync();

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_sealed_pack_takes_no_more_records()
    {
        var writer = PackWriter.Create(new FolderPackStorage(_temp["packs"]));
        await writer.SealAsync(CancellationToken.None);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
            await writer.AppendAsync(ChunkId.Of("x"u8), ChunkCompression.None, "x"u8.ToArray(), 1, CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(_temp["packs"], writer.Name)));
    }
}
