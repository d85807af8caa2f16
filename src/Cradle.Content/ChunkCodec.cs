using System.Buffers.Binary;
using Cradle.Protocol;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Cradle.Content;

/// <summary>How a chunk's bytes are kept: as they are, or zstd-compressed.</summary>
public enum ChunkCompression : byte
{
    None = 0,
    Zstd = 1,

    /// <summary>
    /// Stored in a compression group with other chunks (pack format v2): one zstd frame of
    /// several chunks' raw bytes. Never on the wire.
    /// </summary>
    ZstdGroup = 2,
}

/// <summary>
/// Compresses and decompresses chunks with zstd. One instance per thread of work: the
/// underlying zstd contexts are not thread-safe, and reusing them saves their allocation.
/// </summary>
public sealed class ChunkCodec : IDisposable
{
    public const int DefaultLevel = 3;

    private const uint ZstdFrameMagic = 0xFD2FB528;

    private readonly Compressor _compressor;
    private readonly Decompressor _decompressor = new();
    private byte[] _scratch = [];

    public ChunkCodec(int level = DefaultLevel) => _compressor = new Compressor(level);

    /// <summary>The zstd level of the next compression; may change between chunks.</summary>
    public int Level
    {
        get => _compressor.Level;
        set => _compressor.Level = value;
    }

    /// <summary>
    /// Compresses <paramref name="raw"/>; keeps it uncompressed when zstd saves less than 1/32
    /// of it (already-compressed media), so restore does not pay for a useless decompression.
    /// The returned memory is valid until the next call.
    /// </summary>
    public (ChunkCompression Compression, ReadOnlyMemory<byte> Data) Compress(ReadOnlyMemory<byte> raw)
    {
        var compressed = CompressAlways(raw);
        return SavesEnough(compressed.Length, raw.Length)
            ? (ChunkCompression.Zstd, compressed)
            : (ChunkCompression.None, raw);
    }

    /// <summary>Whether a compressed form of <paramref name="compressedLength"/> bytes saves more than 1/32 of a chunk of <paramref name="rawLength"/>: worth keeping.</summary>
    public static bool SavesEnough(int compressedLength, int rawLength) => compressedLength < rawLength - (rawLength >> 5);

    /// <summary>Compresses <paramref name="raw"/> whatever it saves; valid until the next call.</summary>
    public ReadOnlyMemory<byte> CompressAlways(ReadOnlyMemory<byte> raw)
    {
        var bound = Compressor.GetCompressBound(raw.Length);
        if (_scratch.Length < bound)
        {
            _scratch = new byte[bound];
        }

        return _scratch.AsMemory(0, _compressor.Wrap(raw.Span, _scratch));
    }

    /// <summary>
    /// Restores a chunk's raw bytes into <paramref name="destination"/>, which must be exactly
    /// its raw length; a chunk that decodes to any other length is corrupt.
    /// </summary>
    public void Decompress(ChunkCompression compression, ReadOnlySpan<byte> stored, Span<byte> destination)
    {
        switch (compression)
        {
            case ChunkCompression.None:
                if (stored.Length != destination.Length)
                {
                    throw new CradleProtocolException($"stored chunk is {stored.Length} bytes, expected {destination.Length}");
                }

                stored.CopyTo(destination);
                break;
            case ChunkCompression.Zstd:
                int written;
                try
                {
                    written = _decompressor.Unwrap(stored, destination);
                }
                catch (ZstdException e)
                {
                    throw new CradleProtocolException($"chunk does not decompress: {e.Message}", e);
                }

                if (written != destination.Length)
                {
                    throw new CradleProtocolException($"chunk decompressed to {written} bytes, expected {destination.Length}");
                }

                break;
            default:
                throw new CradleProtocolException($"unknown chunk compression {(int)compression}");
        }
    }

    /// <summary>
    /// Whether <paramref name="stored"/> is exactly one ordinary zstd frame: no skippable frame,
    /// nothing before or after it. A frame a device sent may be kept as it came only then, so
    /// what the store later hands out (to this device or another sharing the chunk) carries no
    /// bytes besides the chunk's own.
    /// </summary>
    public static unsafe bool IsSingleFrame(ReadOnlySpan<byte> stored)
    {
        if (stored.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(stored) != ZstdFrameMagic)
        {
            return false;
        }

        fixed (byte* source = stored)
        {
            var length = Methods.ZSTD_findFrameCompressedSize(source, (nuint)stored.Length);
            return !Methods.ZSTD_isError(length) && length == (nuint)stored.Length;
        }
    }

    public void Dispose()
    {
        _compressor.Dispose();
        _decompressor.Dispose();
    }
}
