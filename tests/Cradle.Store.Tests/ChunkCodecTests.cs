using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

public sealed class ChunkCodecTests : IDisposable
{
    private readonly ChunkCodec _codec = new();

    public void Dispose() => _codec.Dispose();

    [Fact]
    public void Compressible_data_is_stored_zstd_and_round_trips()
    {
        var raw = TestData.Text(200_000);
        var (compression, data) = _codec.Compress(raw);

        Assert.Equal(ChunkCompression.Zstd, compression);
        Assert.True(data.Length < raw.Length / 10, $"{raw.Length} bytes of text compressed to {data.Length}");
        var restored = new byte[raw.Length];
        _codec.Decompress(compression, data.Span, restored);
        Assert.Equal(raw, restored);
    }

    [Fact]
    public void Incompressible_data_is_stored_as_it_is()
    {
        var raw = TestData.Bytes(11, 100_000);
        var (compression, data) = _codec.Compress(raw);

        Assert.Equal(ChunkCompression.None, compression);
        Assert.Equal(raw, data.ToArray());
        var restored = new byte[raw.Length];
        _codec.Decompress(compression, data.Span, restored);
        Assert.Equal(raw, restored);
    }

    [Fact]
    public void An_empty_chunk_round_trips()
    {
        var (compression, data) = _codec.Compress(ReadOnlyMemory<byte>.Empty);
        _codec.Decompress(compression, data.Span, Span<byte>.Empty);
    }

    [Fact]
    public void The_codec_is_reusable_across_chunks_of_different_sizes()
    {
        foreach (var length in new[] { 300_000, 10, 70_000, 1 << 20 })
        {
            var raw = TestData.Text(length);
            var (compression, data) = _codec.Compress(raw);
            var restored = new byte[length];
            _codec.Decompress(compression, data.Span, restored);
            Assert.Equal(raw, restored);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void A_zstd_chunk_decompressed_to_the_wrong_length_throws(int delta)
    {
        var raw = TestData.Text(50_000);
        var stored = _codec.Compress(raw).Data.ToArray();
        var destination = new byte[raw.Length + delta];

        Assert.Throws<CradleProtocolException>(() => _codec.Decompress(ChunkCompression.Zstd, stored, destination));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void A_stored_chunk_of_the_wrong_length_throws(int delta)
    {
        var raw = TestData.Bytes(12, 1000);
        var destination = new byte[raw.Length + delta];

        var e = Assert.Throws<CradleProtocolException>(() => _codec.Decompress(ChunkCompression.None, raw, destination));
        Assert.Contains("expected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_that_claims_to_be_zstd_throws()
    {
        var garbage = TestData.Bytes(13, 500);
        Assert.Throws<CradleProtocolException>(() => _codec.Decompress(ChunkCompression.Zstd, garbage, new byte[1000]));
    }

    [Fact]
    public void An_unknown_compression_throws()
    {
        var e = Assert.Throws<CradleProtocolException>(() => _codec.Decompress((ChunkCompression)7, new byte[4], new byte[4]));
        Assert.Contains("7", e.Message, StringComparison.Ordinal);
    }
}
