using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Cradle.Protocol;

namespace Cradle.Benchmarks;

/// <summary>
/// A chunk id is the SHA-256 of the chunk's uncompressed bytes (<see cref="ChunkId.Of"/>);
/// plain <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> is the baseline, so the
/// difference is what the id type costs on top.
/// </summary>
[MemoryDiagnoser]
public class HashBenchmarks
{
    private const int ChunkLength = 64 * 1024;

    private readonly byte[] _chunk = BenchmarkData.Random(7, ChunkLength);
    private readonly byte[] _digest = new byte[SHA256.HashSizeInBytes];

    [Benchmark(Baseline = true)]
    [BytesPerOperation(ChunkLength)]
    public int Sha256() => SHA256.HashData(_chunk, _digest);

    [Benchmark]
    [BytesPerOperation(ChunkLength)]
    public ChunkId ChunkIdOf() => ChunkId.Of(_chunk);
}
