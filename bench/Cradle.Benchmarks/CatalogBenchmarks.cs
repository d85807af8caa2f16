using BenchmarkDotNet.Attributes;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// Chunk lookups in a real SQLite catalog of 200,000 chunks (about 12.5 GiB of 64 KiB chunks)
/// in a temp folder. The backup path asks <see cref="Catalog.HasChunk"/> for every id of a
/// <c>ChunkQuery</c> (through <see cref="StoreWriter.Has"/>, which first looks in the session's
/// own dictionary) and <see cref="Catalog.TryGetRawLength"/> for every id of a
/// <c>FileEntries</c>; restore asks <see cref="Catalog.FindChunk"/>. Each operation is one
/// lookup; an invocation looks up 1,024 different ids spread over the whole table.
/// </summary>
[MemoryDiagnoser]
public class CatalogBenchmarks
{
    private const int ChunkCount = 200_000;
    private const int ChunksPerPack = 400; // 16 MiB packs of ~40 KiB stored chunks
    private const int Lookups = 1024;

    private string _folder = null!;
    private Catalog _catalog = null!;
    private ChunkId[] _present = null!;
    private ChunkId[] _absent = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"cradle-bench-catalog-{Guid.NewGuid():N}");
        var store = await ChunkStore.OpenAsync(_folder).ConfigureAwait(false);
        _catalog = store.OpenCatalog();
        var ids = Ids(seed: 1, ChunkCount);
        for (var p = 0; p < ChunkCount / ChunksPerPack; p++)
        {
            var entries = new PackEntry[ChunksPerPack];
            long offset = 28;
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = new PackEntry(ids[(p * ChunksPerPack) + i], offset, 40_000, 65_536, ChunkCompression.Zstd);
                offset += 40_000 + 45;
            }

            _catalog.Commit(new SealedPack($"{p % 256:x2}/{Guid.NewGuid():N}.pack", offset, entries), snapshot: null, nowMs: 0);
        }

        _present = [.. ids.Where((_, i) => i % (ChunkCount / Lookups) == 0).Take(Lookups)];
        _absent = Ids(seed: 2, Lookups);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _catalog.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int HasChunkPresent() => CountHas(_present);

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int HasChunkAbsent() => CountHas(_absent);

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long TryGetRawLengthPresent()
    {
        long total = 0;
        foreach (var id in _present)
        {
            if (_catalog.TryGetRawLength(id, out var length))
            {
                total += length;
            }
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long FindChunkPresent()
    {
        long total = 0;
        foreach (var id in _present)
        {
            total += _catalog.FindChunk(id)?.Entry.Offset ?? 0;
        }

        return total;
    }

    private int CountHas(ChunkId[] ids)
    {
        var found = 0;
        foreach (var id in ids)
        {
            if (_catalog.HasChunk(id))
            {
                found++;
            }
        }

        return found;
    }

    private static ChunkId[] Ids(ulong seed, int count)
    {
        var bytes = BenchmarkData.Random(seed, count * ChunkId.Length);
        var ids = new ChunkId[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = ChunkId.Read(bytes.AsSpan(i * ChunkId.Length, ChunkId.Length));
        }

        return ids;
    }
}
