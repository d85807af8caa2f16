using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Cradle.Content;

/// <summary>
/// FastCDC content-defined chunking (Xia et al., USENIX ATC 2016) with normalized chunking:
/// a gear rolling hash, a stricter mask before the average size and a looser one after, so
/// chunk sizes cluster around the average. An insertion in a file moves only the cut points
/// near it; the chunks after it are found again and deduplicated.
/// </summary>
public sealed class Chunker
{
    private static readonly ulong[] Gear = BuildGear();

    private Stream _source;
    private readonly ChunkerOptions _options;
    private readonly ulong _maskStrict;
    private readonly ulong _maskLoose;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>
    /// A chunker of <paramref name="source"/>. When <paramref name="expectedLength"/> (the size a
    /// listing gave) is small, the buffer starts at that size and grows to its full size only if
    /// the stream turns out longer: a small file costs a small buffer, and the cuts are the same.
    /// </summary>
    public Chunker(Stream source, ChunkerOptions? options = null, long expectedLength = -1)
    {
        _source = source;
        _options = options ?? ChunkerOptions.Default;
        _options.Validate();
        var bits = BitOperations.Log2((uint)_options.AverageSize);
        // Normalization level 2: two more bits below the average, two fewer above it.
        _maskStrict = HighBits(bits + 2);
        _maskLoose = HighBits(bits - 2);
        // One byte more than expected, so that the read which finds the end has room to return 0.
        _buffer = new byte[expectedLength >= 0 && expectedLength < FullBufferLength - 1 ? (int)expectedLength + 1 : FullBufferLength];
    }

    /// <summary>True once the buffer has its full size (twice the largest chunk): worth keeping for further files.</summary>
    public bool HasFullBuffer => _buffer.Length == FullBufferLength;

    private int FullBufferLength => _options.MaxSize * 2;

    /// <summary>
    /// Starts over on another stream, keeping the buffer: chunking many small files with one
    /// chunker allocates nothing per file.
    /// </summary>
    public void Reset(Stream source)
    {
        _source = source;
        _start = 0;
        _end = 0;
        _eof = false;
        Current = ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>The chunk found by the last successful <see cref="MoveNextAsync"/>; valid until the next call.</summary>
    public ReadOnlyMemory<byte> Current { get; private set; }

    /// <summary>Finds the next chunk; false at the end of the stream.</summary>
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (_end - _start < _options.MaxSize && !_eof)
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }

        var available = _end - _start;
        if (available == 0)
        {
            Current = ReadOnlyMemory<byte>.Empty;
            return false;
        }

        var length = FindCut(_buffer.AsSpan(_start, available));
        Current = _buffer.AsMemory(_start, length);
        _start += length;
        return true;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (true)
        {
            if (_end == _buffer.Length)
            {
                if (HasFullBuffer)
                {
                    break;
                }

                // Longer than the listing said: the buffer every cut needs.
                Array.Resize(ref _buffer, FullBufferLength);
            }

            var n = await _source.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                _eof = true;
                break;
            }

            _end += n;
        }
    }

    /// <summary>The length of the next chunk at the start of <paramref name="data"/>.</summary>
    internal int FindCut(ReadOnlySpan<byte> data)
    {
        var n = data.Length;
        if (n <= _options.MinSize)
        {
            return n;
        }

        if (n > _options.MaxSize)
        {
            n = _options.MaxSize;
        }

        var normal = Math.Min(_options.AverageSize, n);
        ulong hash = 0;
        var i = _options.MinSize;
        for (; i < normal; i++)
        {
            hash = unchecked((hash << 1) + Gear[data[i]]);
            if ((hash & _maskStrict) == 0)
            {
                return i + 1;
            }
        }

        for (; i < n; i++)
        {
            hash = unchecked((hash << 1) + Gear[data[i]]);
            if ((hash & _maskLoose) == 0)
            {
                return i + 1;
            }
        }

        return n;
    }

    private static ulong HighBits(int count) => ulong.MaxValue << (64 - count);

    /// <summary>
    /// 256 pseudo-random 64-bit values, derived from a fixed label so that every build cuts
    /// the same data at the same places (the store format depends on it).
    /// </summary>
    private static ulong[] BuildGear()
    {
        var table = new ulong[256];
        Span<byte> seed = stackalloc byte[36];
        "cradle-gear-v1"u8.CopyTo(seed);
        Span<byte> digest = stackalloc byte[32];
        for (var i = 0; i < 256; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(seed[32..], i);
            SHA256.HashData(seed, digest);
            table[i] = BinaryPrimitives.ReadUInt64LittleEndian(digest);
        }

        return table;
    }
}
