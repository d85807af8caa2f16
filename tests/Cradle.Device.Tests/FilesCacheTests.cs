using System.Security.Cryptography;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Device.Tests;

public sealed class FilesCacheTests : IDisposable
{
    private static readonly ScanOrder Order = new([new DataFolder("docs", "/data/docs")]);
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string CachePath => _temp["volatile/files.cache"];

    private static ScanEntry Entry(string path, long size = 100, long mtime = 1_700_000_000_000_000_000, ulong inode = 42) =>
        new(path, "/data/" + path, EntryKind.File, size, mtime, inode, 0x81A4);

    private static ChunkId[] Ids(params string[] contents) => contents.Select(c => ChunkId.Of(Encoding.UTF8.GetBytes(c))).ToArray();

    /// <summary>Writes a cache of these files, added in this order, and saves it.</summary>
    private void Save(params (ScanEntry Entry, ChunkId[] Chunks)[] files) => Save(Order, files);

    private void Save(ScanOrder order, params (ScanEntry Entry, ChunkId[] Chunks)[] files)
    {
        using var writer = new FilesCacheWriter(Path.GetDirectoryName(CachePath)!, order);
        foreach (var (entry, chunks) in files)
        {
            writer.Add(entry, chunks);
        }

        writer.Save(CachePath);
    }

    private FilesCache Open() => FilesCache.Open(CachePath, Order);

    [Fact]
    public void Save_and_open_round_trip()
    {
        Save((Entry("docs/a.txt"), Ids("a1", "a2")), (Entry("docs/Données/été 😀.txt", size: 0), []));

        using var loaded = Open();

        // Looked up in scan order: "D" sorts before "a".
        Assert.Equal(2, loaded.Count);
        var empty = loaded.Lookup(Entry("docs/Données/été 😀.txt", size: 0));
        Assert.NotNull(empty);
        Assert.Empty(empty);
        Assert.Equal(Ids("a1", "a2"), loaded.Lookup(Entry("docs/a.txt")));
    }

    [Fact]
    public void Lookup_hits_when_size_time_and_inode_match()
    {
        Save((Entry("docs/f"), Ids("x")));
        using var cache = Open();
        Assert.Equal(Ids("x"), cache.Lookup(Entry("docs/f") with { FullPath = "/elsewhere/f", Mode = 0 }));
    }

    [Theory]
    [InlineData(101, 1_700_000_000_000_000_000, 42UL)]
    [InlineData(100, 1_700_000_000_000_000_001, 42UL)]
    [InlineData(100, 1_700_000_000_000_000_000, 43UL)]
    public void Lookup_misses_when_the_size_time_or_inode_differs(long size, long mtime, ulong inode)
    {
        Save((Entry("docs/f"), Ids("x")));
        using var cache = Open();
        Assert.Null(cache.Lookup(Entry("docs/f", size, mtime, inode)));
    }

    [Fact]
    public void Lookup_misses_an_unknown_path_and_paths_are_case_sensitive()
    {
        Save((Entry("docs/F.txt"), Ids("x")));
        using var cache = Open();
        Assert.Null(cache.Lookup(Entry("docs/f.txt")));
        Assert.Null(cache.Lookup(Entry("docs/other.txt")));
    }

    [Fact]
    public void Lookups_in_scan_order_pass_files_that_are_gone_and_miss_files_that_are_new()
    {
        Save((Entry("docs/a"), Ids("a")), (Entry("docs/a/in"), Ids("in")), (Entry("docs/c"), Ids("c")), (Entry("docs/e"), Ids("e")));
        using var cache = Open();

        Assert.Equal(Ids("a"), cache.Lookup(Entry("docs/a")));
        Assert.Null(cache.Lookup(Entry("docs/b")));
        Assert.Equal(Ids("c"), cache.Lookup(Entry("docs/c")));
        Assert.Null(cache.Lookup(Entry("docs/d")));
        Assert.Equal(Ids("e"), cache.Lookup(Entry("docs/e")));
        Assert.Null(cache.Lookup(Entry("docs/f")));
    }

    [Fact]
    public void A_path_asked_out_of_order_is_a_miss_never_another_files_chunks()
    {
        Save((Entry("docs/a"), Ids("a")), (Entry("docs/b"), Ids("b")));
        using var cache = Open();

        Assert.Equal(Ids("b"), cache.Lookup(Entry("docs/b")));
        Assert.Null(cache.Lookup(Entry("docs/a")));
    }

    [Fact]
    public void Entries_of_a_folder_no_longer_backed_up_are_passed_over()
    {
        var before = new ScanOrder([new DataFolder("old", "/old"), new DataFolder("docs", "/data/docs")]);
        Save(before, (Entry("old/x"), Ids("x")), (Entry("docs/a"), Ids("a")));

        using var cache = Open();

        Assert.Equal(Ids("a"), cache.Lookup(Entry("docs/a")));
    }

    [Fact]
    public void Files_added_out_of_order_are_merged_into_place_the_latest_winning()
    {
        Save(
            (Entry("docs/a"), Ids("a-old")),
            (Entry("docs/c"), Ids("c")),
            (Entry("docs/b"), Ids("b")),
            (Entry("docs/a"), Ids("a-new")),
            (Entry("docs/d"), Ids("d")),
            (Entry("docs/0"), Ids("0")));

        using var cache = Open();

        Assert.Equal(5, cache.Count);
        Assert.Equal(Ids("0"), cache.Lookup(Entry("docs/0")));
        Assert.Equal(Ids("a-new"), cache.Lookup(Entry("docs/a")));
        Assert.Equal(Ids("b"), cache.Lookup(Entry("docs/b")));
        Assert.Equal(Ids("c"), cache.Lookup(Entry("docs/c")));
        Assert.Equal(Ids("d"), cache.Lookup(Entry("docs/d")));
    }

    [Fact]
    public void A_missing_cache_file_is_an_empty_cache()
    {
        using var cache = Open();
        Assert.Equal(0, cache.Count);
        Assert.Null(cache.Lookup(Entry("docs/a")));
    }

    [Fact]
    public void Every_truncation_of_a_cache_file_throws_StoreFormatException()
    {
        Save((Entry("docs/a.txt"), Ids("a1", "a2")), (Entry("docs/b.txt"), Ids("b")));
        var bytes = File.ReadAllBytes(CachePath);

        for (var length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(CachePath, bytes[..length]);
            Assert.Throws<StoreFormatException>(Open);
        }
    }

    [Fact]
    public void Every_flipped_bit_of_a_cache_file_throws_StoreFormatException()
    {
        Save((Entry("docs/a.txt"), Ids("a1", "a2")), (Entry("docs/b.txt"), Ids("b")));
        var bytes = File.ReadAllBytes(CachePath);

        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var damaged = bytes.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            File.WriteAllBytes(CachePath, damaged);
            Assert.Throws<StoreFormatException>(Open);
        }
    }

    [Fact]
    public void A_cache_of_another_format_or_version_throws_StoreFormatException()
    {
        File.WriteAllBytes(CachePath.EnsureFolder(), TestData.Bytes(51, 1000));
        Assert.Throws<StoreFormatException>(Open);

        // Version 1 (a whole-file dictionary without checksum) is refused: read every file once.
        File.WriteAllBytes(CachePath, [.. "CRDLFCCH"u8, 1, 0, 0, 0, 0, 0, .. new byte[40]]);
        var e = Assert.Throws<StoreFormatException>(Open);
        Assert.Contains("version 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_claiming_more_chunks_than_the_file_holds_ends_the_cache_without_allocating_for_them()
    {
        // Checksum right, content wrong: only a bug could write this; what follows is not used.
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("CRDLFCCH"u8);
            w.Write((ushort)2);
            w.Write((byte)1);
            w.Write("docs/a");
            w.Write(100L);
            w.Write(1_700_000_000_000_000_000L);
            w.Write(42UL);
            w.Write(100_000_000);
            w.Write((byte)0);
            w.Write(1);
        }

        File.WriteAllBytes(CachePath.EnsureFolder(), [.. body.ToArray(), .. SHA256.HashData(body.ToArray())]);
        using var cache = Open();
        var before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Null(cache.Lookup(Entry("docs/a")));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024);
    }

    [Fact]
    public void Opening_a_large_cache_does_not_load_it_into_memory()
    {
        const int files = 20_000;
        using (var writer = new FilesCacheWriter(Path.GetDirectoryName(CachePath)!, Order))
        {
            for (var i = 0; i < files; i++)
            {
                writer.Add(Entry($"docs/{i:D6}.log"), Ids($"{i}"));
            }

            writer.Save(CachePath);
        }

        Assert.True(new FileInfo(CachePath).Length > files * ChunkId.Length);
        var before = GC.GetAllocatedBytesForCurrentThread();
        using var cache = Open();
        var opening = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(files, cache.Count);
        Assert.True(opening < files * ChunkId.Length / 4, $"opening a cache of {files} files allocated {opening} bytes");
        Assert.Equal(Ids("19999"), cache.Lookup(Entry("docs/019999.log")));
    }

    [Fact]
    public void Saving_leaves_no_temporary_file()
    {
        Save((Entry("docs/a"), Ids("a")), (Entry("docs/0"), Ids("0")));
        Assert.Equal(new[] { CachePath }, Directory.GetFiles(Path.GetDirectoryName(CachePath)!));
    }

    /// <summary>Saves a next cache of these files over the one there, given the one read at the start; true when it was written.</summary>
    private bool SaveOver(FilesCache current, params (ScanEntry Entry, ChunkId[] Chunks)[] files)
    {
        using var writer = new FilesCacheWriter(Path.GetDirectoryName(CachePath)!, Order);
        foreach (var (entry, chunks) in files)
        {
            writer.Add(entry, chunks);
        }

        return writer.Save(CachePath, current);
    }

    [Fact]
    public void A_next_cache_with_the_same_bytes_is_not_written_again()
    {
        (ScanEntry, ChunkId[])[] files = [(Entry("docs/a"), Ids("a")), (Entry("docs/b"), Ids("b1", "b2"))];
        Save(files);
        var before = File.ReadAllBytes(CachePath);
        var old = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(CachePath, old);
        using var current = Open();

        Assert.False(SaveOver(current, files));
        Assert.Equal(old, File.GetLastWriteTimeUtc(CachePath));
        Assert.Equal(before, File.ReadAllBytes(CachePath));
        Assert.Equal(new[] { CachePath }, Directory.GetFiles(Path.GetDirectoryName(CachePath)!));
    }

    [Theory]
    [InlineData("chunk")]
    [InlineData("size")]
    [InlineData("late")]
    [InlineData("fewer")]
    public void A_next_cache_that_differs_in_anything_is_written(string change)
    {
        Save((Entry("docs/a"), Ids("a")), (Entry("docs/b"), Ids("b1", "b2")));
        using var current = Open();
        (ScanEntry, ChunkId[])[] next = change switch
        {
            // Same count, same paths: only one chunk id differs.
            "chunk" => [(Entry("docs/a"), Ids("a")), (Entry("docs/b"), Ids("b1", "B2"))],
            "size" => [(Entry("docs/a"), Ids("a")), (Entry("docs/b", size: 101), Ids("b1", "b2"))],
            // The same two files, b added again later (a file read again): the later b wins.
            "late" => [(Entry("docs/a"), Ids("a")), (Entry("docs/b"), Ids("b1", "b2")), (Entry("docs/b"), Ids("b3"))],
            _ => [(Entry("docs/b"), Ids("b1", "b2"))],
        };

        Assert.True(SaveOver(current, next));

        using var saved = Open();
        Assert.Equal(change == "fewer" ? 1 : 2, saved.Count);
        var b = saved.Lookup(Entry("docs/b", size: change == "size" ? 101 : 100));
        Assert.Equal(change switch { "chunk" => Ids("b1", "B2"), "late" => Ids("b3"), _ => Ids("b1", "b2") }, b);
    }

    [Fact]
    public void After_an_unreadable_cache_the_next_one_is_written()
    {
        Save((Entry("docs/a"), Ids("a")));
        using var empty = FilesCache.Empty();
        Assert.Null(empty.Checksum);
        Assert.True(SaveOver(empty, (Entry("docs/a"), Ids("a"))));
    }
}

internal static class PathExtensions
{
    public static string EnsureFolder(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
