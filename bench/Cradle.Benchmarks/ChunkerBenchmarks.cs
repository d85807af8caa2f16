using BenchmarkDotNet.Attributes;
using Cradle.Content;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// FastCDC over 64 MiB held in memory, so the figure is the chunker's CPU cost alone (no disk).
/// One chunker is reset per stream, as the device does for every file.
/// </summary>
[MemoryDiagnoser]
public class ChunkerBenchmarks
{
    private const int DataLength = 64 * 1024 * 1024;

    private MemoryStream _stream = null!;
    private Chunker _chunker = null!;

    [Params("random", "text")]
    public string Content { get; set; } = "random";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _stream = new MemoryStream(BenchmarkData.OfKind(Content, DataLength), writable: false);
        _chunker = new Chunker(_stream);
        var chunks = await Chunk64MiB().ConfigureAwait(false);
        Console.WriteLine($"// {Content}: {chunks} chunks, {DataLength / chunks} bytes on average");
    }

    [GlobalCleanup]
    public void Cleanup() => _stream.Dispose();

    /// <summary>Cuts the whole stream; returns the number of chunks (about 1,000 at the 64 KiB average).</summary>
    [Benchmark]
    [BytesPerOperation(DataLength)]
    public async ValueTask<int> Chunk64MiB()
    {
        _stream.Position = 0;
        _chunker.Reset(_stream);
        var chunks = 0;
        while (await _chunker.MoveNextAsync(CancellationToken.None).ConfigureAwait(false))
        {
            chunks++;
        }

        return chunks;
    }
}
