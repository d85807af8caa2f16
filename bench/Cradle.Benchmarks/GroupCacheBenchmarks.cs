using BenchmarkDotNet.Attributes;
using Cradle.Content;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// Several readers of one store at once, as a host serving several restores over the wire: each
/// session reads with a reader of its own, the readers of one store share its cache of the four
/// compression groups decompressed last, and the sessions' reads interleave chunk by chunk (each
/// sends a chunk, then awaits the link). The snapshot is 1,024 small text files of 16 KiB (one
/// chunk each: 16 MiB in 8 groups of 2 MiB); each of <see cref="Streams"/> readers reads every
/// chunk of it, starting at a different file (restores started at different times), the reads
/// taken in turn, one chunk each, on one thread (so the order, and the cache's work, is the same
/// in every run). Reading a chunk of a group not in the cache decompresses the whole group: with
/// room for four groups, five streams evicted at every read a group another stream was about to
/// need. The cache now keeps a group per open reader. The log prints the decompressions an LRU
/// cache of 4, 8 and 16 groups would make for these reads, and those the store's cache made in
/// the last iteration.
/// </summary>
[MemoryDiagnoser]
public class GroupCacheBenchmarks
{
    private const int FileLength = 16 * 1024; // below the chunker's minimum: one chunk a file
    private const int Files = 1024;

    private BenchmarkStore _store = null!;
    private SnapshotReader[] _readers = [];
    private ChunkLocation[] _locations = [];
    private byte[][] _buffers = [];
    private long _lastIteration;

    [Params(1, 4, 5, 8)]
    public int Streams { get; set; } = 1;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var files = Enumerable.Range(0, Files)
            .Select(i => ($"Logs/d{i / 100:00}/f{i:0000}.log", BenchmarkData.Text((ulong)i + 1, FileLength)))
            .ToList();
        _store = await BenchmarkStore.CreateAsync(files).ConfigureAwait(false);
        _readers = [.. Enumerable.Range(0, Streams).Select(_ => _store.Store.OpenReader())];
        using (var tree = _store.Store.OpenReader())
        {
            _locations = [.. (await tree.LoadTreeAsync(_store.Snapshot, CancellationToken.None).ConfigureAwait(false)).Where(e => e.Kind == EntryKind.File).SelectMany(e => e.Chunks).Select(tree.Locate)];
        }

        _buffers = [.. Enumerable.Range(0, Streams).Select(_ => new byte[FileLength])];
        var groups = _locations.Where(l => l.Entry.Compression == ChunkCompression.ZstdGroup).Select(l => (l.PackName, l.Entry.Offset)).Distinct().Count();
        Console.WriteLine($"// {Streams} streams: {_locations.Length} chunks in {groups} groups; decompressions an LRU cache would make for " +
            $"{Streams} × {_locations.Length} interleaved reads: 4 groups {Misses(4)}, 8 groups {Misses(8)}, 16 groups {Misses(16)} (at least {groups})");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// {Streams} streams: the store's cache (capacity {_store.Store.Groups.Capacity}) decompressed {_lastIteration} groups in the last iteration");
        foreach (var reader in _readers)
        {
            reader.Dispose();
        }

        _store.Dispose();
    }

    /// <summary>Every stream reads (decompresses, verifies, copies) every chunk of the snapshot, in turn.</summary>
    [Benchmark]
    [BytesPerOperation((long)Files * FileLength)]
    public async Task ReadInTurn()
    {
        var before = _store.Store.Groups.Decompressions;
        for (var i = 0; i < _locations.Length; i++)
        {
            for (var stream = 0; stream < Streams; stream++)
            {
                var location = _locations[((stream * _locations.Length / Streams) + i) % _locations.Length];
                await _readers[stream].ReadChunkAsync(location, _buffers[stream].AsMemory(0, location.Entry.RawLength), CancellationToken.None).ConfigureAwait(false);
            }
        }

        _lastIteration = _store.Store.Groups.Decompressions - before;
    }

    /// <summary>Groups an LRU cache of <paramref name="capacity"/> would decompress for the streams' reads taken in turn.</summary>
    private int Misses(int capacity)
    {
        var cache = new LinkedList<(string, long)>();
        var misses = 0;
        for (var i = 0; i < _locations.Length; i++)
        {
            for (var s = 0; s < Streams; s++)
            {
                var l = _locations[((s * _locations.Length / Streams) + i) % _locations.Length];
                if (l.Entry.Compression != ChunkCompression.ZstdGroup)
                {
                    continue;
                }

                var key = (l.PackName, l.Entry.Offset);
                if (cache.Remove(key))
                {
                    cache.AddFirst(key);
                    continue;
                }

                misses++;
                cache.AddFirst(key);
                if (cache.Count > capacity)
                {
                    cache.RemoveLast();
                }
            }
        }

        return misses;
    }
}
