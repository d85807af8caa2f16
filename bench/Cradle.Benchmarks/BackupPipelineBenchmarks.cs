using BenchmarkDotNet.Attributes;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// The first backup's CPU work on one device batch (8 MiB, as <c>DeviceOptions.BatchBytes</c>),
/// step by step, on one core: what the device does to each chunk (cut, hash, compress at zstd
/// level 3) and what the host does to it (decompress and hash to verify the id, then compress
/// the compressible chunks again in 2 MiB groups). Each step's MB/s shows where a first backup's
/// CPU goes on each kind of content, and what sending chunks raw would save: the host would then
/// only hash (<see cref="HostHashRaw"/>) and group (<see cref="HostGroupCompress"/>), and the
/// device would not compress at all.
/// </summary>
[MemoryDiagnoser]
public class BackupPipelineBenchmarks
{
    private const int BatchLength = 8 * 1024 * 1024;
    private const int GroupLength = 2 * 1024 * 1024;

    private byte[] _batch = null!;
    private MemoryStream _stream = null!;
    private Chunker _chunker = null!;
    private ChunkCodec _codec = null!;
    private readonly List<(int Offset, int Length)> _chunks = [];
    private readonly List<(ChunkCompression Compression, byte[] Stored, int RawLength)> _sent = [];
    private readonly byte[] _raw = new byte[ChunkerOptions.AbsoluteMaxSize];

    [Params("random", "text", "database")]
    public string Content { get; set; } = "random";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _batch = BenchmarkData.OfKind(Content, BatchLength);
        _stream = new MemoryStream(_batch, writable: false);
        _chunker = new Chunker(_stream);
        _codec = new ChunkCodec();
        var offset = 0;
        while (await _chunker.MoveNextAsync(CancellationToken.None).ConfigureAwait(false))
        {
            var length = _chunker.Current.Length;
            _chunks.Add((offset, length));
            var (compression, data) = _codec.Compress(_batch.AsMemory(offset, length));
            _sent.Add((compression, data.ToArray(), length));
            offset += length;
        }

        var stored = _sent.Sum(s => (long)s.Stored.Length);
        Console.WriteLine($"// {Content}: {_chunks.Count} chunks; zstd -3 per chunk keeps {stored} of {BatchLength} bytes (ratio {(double)BatchLength / stored:0.00}); " +
            $"{_sent.Count(s => s.Compression == ChunkCompression.Zstd)} chunks compressed");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _codec.Dispose();
        _stream.Dispose();
    }

    // Results are folded into one value so that no work is optimised away; the project checks
    // arithmetic overflow, and a hash code is any int.
    private static ulong Mix(ChunkId id) => unchecked((ulong)id.GetHashCode());

    /// <summary>The device: FastCDC over the batch.</summary>
    [Benchmark]
    [BytesPerOperation(BatchLength)]
    public async ValueTask<int> DeviceChunk()
    {
        _stream.Position = 0;
        _chunker.Reset(_stream);
        var n = 0;
        while (await _chunker.MoveNextAsync(CancellationToken.None).ConfigureAwait(false))
        {
            n++;
        }

        return n;
    }

    /// <summary>The device: each chunk's SHA-256 id.</summary>
    [Benchmark]
    [BytesPerOperation(BatchLength)]
    public ulong DeviceHash()
    {
        ulong x = 0;
        foreach (var (offset, length) in _chunks)
        {
            x ^= Mix(ChunkId.Of(_batch.AsSpan(offset, length)));
        }

        return x;
    }

    /// <summary>The device: zstd level 3 on each chunk, kept raw when it saves under 1/32 (as sent today).</summary>
    [Benchmark]
    [BytesPerOperation(BatchLength)]
    public long DeviceCompress()
    {
        long n = 0;
        foreach (var (offset, length) in _chunks)
        {
            n += _codec.Compress(_batch.AsMemory(offset, length)).Data.Length;
        }

        return n;
    }

    /// <summary>The host, as today: decompress each chunk sent compressed, hash it to verify its id.</summary>
    [Benchmark]
    [BytesPerOperation(BatchLength)]
    public ulong HostVerifyCompressed()
    {
        ulong x = 0;
        foreach (var (compression, stored, rawLength) in _sent)
        {
            var raw = _raw.AsSpan(0, rawLength);
            _codec.Decompress(compression, stored, raw);
            x ^= Mix(ChunkId.Of(raw));
        }

        return x;
    }

    /// <summary>The host, were chunks sent raw: hash each to verify its id.</summary>
    [Benchmark]
    [BytesPerOperation(BatchLength)]
    public ulong HostHashRaw()
    {
        ulong x = 0;
        foreach (var (offset, length) in _chunks)
        {
            x ^= Mix(ChunkId.Of(_batch.AsSpan(offset, length)));
        }

        return x;
    }

    /// <summary>The host: the compressible chunks' raw bytes compressed again in 2 MiB groups (zstd level 3).</summary>
    [Benchmark]
    [BytesPerOperation(BatchLength)]
    public long HostGroupCompress()
    {
        long n = 0;
        var start = -1;
        var end = 0;
        for (var i = 0; i < _chunks.Count; i++)
        {
            if (_sent[i].Compression != ChunkCompression.Zstd)
            {
                continue;
            }

            // The compressible chunks of a batch lie side by side in it: a group is a run of them.
            if (start < 0)
            {
                start = _chunks[i].Offset;
            }

            end = _chunks[i].Offset + _chunks[i].Length;
            if (end - start >= GroupLength)
            {
                n += _codec.CompressAlways(_batch.AsMemory(start, end - start)).Length;
                start = -1;
            }
        }

        if (start >= 0)
        {
            n += _codec.CompressAlways(_batch.AsMemory(start, end - start)).Length;
        }

        return n;
    }
}
