using BenchmarkDotNet.Attributes;
using Cradle.Content;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// zstd level 3 on one 64 KiB chunk, as the device compresses each chunk it sends and the host
/// decompresses each one it receives to verify its id. A random chunk does not compress: the
/// codec compresses it, gives up and keeps it as it is, so its decode is a copy.
/// </summary>
[MemoryDiagnoser]
public class ChunkCodecBenchmarks
{
    private const int ChunkLength = 64 * 1024;

    private ChunkCodec _codec = null!;
    private byte[] _raw = null!;
    private ChunkCompression _compression;
    private byte[] _stored = null!;
    private readonly byte[] _restored = new byte[ChunkLength];

    [Params("random", "text")]
    public string Content { get; set; } = "random";

    [GlobalSetup]
    public void Setup()
    {
        _codec = new ChunkCodec();
        _raw = BenchmarkData.OfKind(Content, ChunkLength);
        var (compression, stored) = _codec.Compress(_raw);
        _compression = compression;
        _stored = stored.ToArray();
        Console.WriteLine($"// {Content} chunk: {ChunkLength} bytes stored as {compression}, {_stored.Length} bytes (ratio {(double)ChunkLength / _stored.Length:0.00})");
    }

    [GlobalCleanup]
    public void Cleanup() => _codec.Dispose();

    [Benchmark]
    [BytesPerOperation(ChunkLength)]
    public int Compress() => _codec.Compress(_raw).Data.Length;

    [Benchmark]
    [BytesPerOperation(ChunkLength)]
    public void Decompress() => _codec.Decompress(_compression, _stored, _restored);
}
