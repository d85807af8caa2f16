using BenchmarkDotNet.Attributes;
using Cradle.Content;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// zstd (ZstdSharp, the managed port <see cref="ChunkCodec"/> uses) at several levels on one
/// 64 KiB chunk: what a slow link could buy with more CPU. On a 115,200-baud line (11,520 B/s)
/// a level that compresses 64 KiB in 10 ms and saves 1 KiB more than level 3 pays for itself a
/// hundred times over; on a 100 Mbit/s link it does not. The ratio of each case is printed in
/// the log (// lines) and is what to read beside the MB/s.
/// </summary>
[MemoryDiagnoser]
public class CompressionLevelBenchmarks
{
    private const int ChunkLength = 64 * 1024;

    private ChunkCodec _codec = null!;
    private byte[] _raw = null!;

    [Params("text", "database")]
    public string Content { get; set; } = "text";

    [Params(1, 3, 6, 9, 15, 19)]
    public int Level { get; set; } = 3;

    [GlobalSetup]
    public void Setup()
    {
        _codec = new ChunkCodec(Level);
        _raw = BenchmarkData.OfKind(Content, ChunkLength);
        var stored = _codec.CompressAlways(_raw).Length;
        Console.WriteLine($"// {Content}, level {Level}: {ChunkLength} → {stored} bytes (ratio {(double)ChunkLength / stored:0.00})");
    }

    [GlobalCleanup]
    public void Cleanup() => _codec.Dispose();

    [Benchmark]
    [BytesPerOperation(ChunkLength)]
    public int Compress() => _codec.CompressAlways(_raw).Length;
}
