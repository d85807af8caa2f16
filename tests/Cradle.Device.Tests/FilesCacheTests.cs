using System.Text;
using Cradle.Protocol;
using Cradle.Store;
using Cradle.Tests;

namespace Cradle.Device.Tests;

public sealed class FilesCacheTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string CachePath => _temp["volatile/files.cache"];

    private static ScanEntry Entry(string path, long size = 100, long mtime = 1_700_000_000_000_000_000, ulong inode = 42) =>
        new(path, "/data/" + path, EntryKind.File, size, mtime, inode, 0x81A4);

    private static ChunkId[] Ids(params string[] contents) => contents.Select(c => ChunkId.Of(Encoding.UTF8.GetBytes(c))).ToArray();

    [Fact]
    public void Save_and_load_round_trip_keeping_only_the_named_files()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("docs/a.txt"), Ids("a1", "a2"));
        cache.Set(Entry("docs/Données/été 😀.txt", size: 0), []);
        cache.Set(Entry("docs/gone.txt"), Ids("g"));

        cache.Save(CachePath, new HashSet<string> { "docs/a.txt", "docs/Données/été 😀.txt" });
        var loaded = FilesCache.Load(CachePath);

        Assert.Equal(2, loaded.Count);
        Assert.Equal(Ids("a1", "a2"), loaded.Lookup(Entry("docs/a.txt")));
        var empty = loaded.Lookup(Entry("docs/Données/été 😀.txt", size: 0));
        Assert.NotNull(empty);
        Assert.Empty(empty);
        Assert.Null(loaded.Lookup(Entry("docs/gone.txt")));
    }

    [Fact]
    public void Lookup_hits_when_size_time_and_inode_match()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("f"), Ids("x"));

        Assert.Equal(Ids("x"), cache.Lookup(Entry("f") with { FullPath = "/elsewhere/f", Mode = 0 }));
    }

    [Fact]
    public void Lookup_misses_when_the_size_differs()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("f"), Ids("x"));
        Assert.Null(cache.Lookup(Entry("f", size: 101)));
    }

    [Fact]
    public void Lookup_misses_when_the_modification_time_differs()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("f"), Ids("x"));
        Assert.Null(cache.Lookup(Entry("f", mtime: 1_700_000_000_000_000_001)));
    }

    [Fact]
    public void Lookup_misses_when_the_inode_differs()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("f"), Ids("x"));
        Assert.Null(cache.Lookup(Entry("f", inode: 43)));
    }

    [Fact]
    public void Lookup_misses_an_unknown_path_and_paths_are_case_sensitive()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("docs/F.txt"), Ids("x"));
        Assert.Null(cache.Lookup(Entry("docs/f.txt")));
        Assert.Null(cache.Lookup(Entry("docs/other.txt")));
    }

    [Fact]
    public void A_missing_cache_file_is_an_empty_cache()
    {
        Assert.Equal(0, FilesCache.Load(CachePath).Count);
    }

    [Fact]
    public void Every_truncation_of_a_cache_file_throws_StoreFormatException()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("docs/a.txt"), Ids("a1", "a2"));
        cache.Set(Entry("docs/b.txt"), Ids("b"));
        cache.Save(CachePath, new HashSet<string> { "docs/a.txt", "docs/b.txt" });
        var bytes = File.ReadAllBytes(CachePath);

        for (var length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(CachePath, bytes[..length]);
            Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));
        }
    }

    [Fact]
    public void A_cache_of_another_format_or_version_throws_StoreFormatException()
    {
        File.WriteAllBytes(CachePath.EnsureFolder(), TestData.Bytes(51, 1000));
        Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));

        File.WriteAllBytes(CachePath, [.. "CRDLFCCH"u8, 2, 0, 0, 0, 0, 0]);
        var e = Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));
        Assert.Contains("version 1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10_000_001)]
    public void A_cache_claiming_an_impossible_count_throws_StoreFormatException(int count)
    {
        File.WriteAllBytes(CachePath.EnsureFolder(), [.. "CRDLFCCH"u8, 1, 0, .. BitConverter.GetBytes(count)]);
        Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));
    }

    [Fact]
    public void An_entry_claiming_more_chunks_than_the_file_holds_throws_StoreFormatException()
    {
        var cache = FilesCache.Empty();
        cache.Set(Entry("a"), Ids("x"));
        cache.Save(CachePath, new HashSet<string> { "a" });
        var bytes = File.ReadAllBytes(CachePath);
        // The chunk count is the i32 just before the single 32-byte id.
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 36), 1_000_000);
        File.WriteAllBytes(CachePath, bytes);

        var e = Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));
        Assert.Contains("1000000 chunks", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })] // string length -1
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // 7-bit length too long
    public void A_damaged_string_length_throws_StoreFormatException(byte[] length)
    {
        File.WriteAllBytes(CachePath.EnsureFolder(), [.. "CRDLFCCH"u8, 1, 0, 1, 0, 0, 0, .. length, .. new byte[64]]);
        Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));
    }

    [Fact]
    public void A_cache_claiming_ten_million_entries_fails_without_allocating_for_them()
    {
        File.WriteAllBytes(CachePath.EnsureFolder(), [.. "CRDLFCCH"u8, 1, 0, .. BitConverter.GetBytes(10_000_000)]);
        var before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<StoreFormatException>(() => FilesCache.Load(CachePath));

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 * 1024 * 1024, $"a 14-byte cache file made the loader allocate {allocated} bytes");
    }

    [Fact]
    public void Saving_leaves_no_temporary_file()
    {
        FilesCache.Empty().Save(CachePath, new HashSet<string>());
        Assert.Equal(new[] { CachePath }, Directory.GetFiles(Path.GetDirectoryName(CachePath)!));
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
