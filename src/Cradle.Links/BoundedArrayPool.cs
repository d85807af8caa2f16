using System.Buffers;

namespace Cradle.Links;

/// <summary>
/// A pool of a few arrays for one owner (a device's message channel): it keeps at most
/// <see cref="MaxKept"/> arrays of at most <see cref="MaxKeptLength"/> bytes, whichever thread
/// returns them, so what it holds between uses is bounded by their product. The shared pool
/// keeps an array per size per thread and more per core: right for a host with a hundred
/// sessions, but a handheld whose one session sends 256 KiB chunks from the thread pool's
/// threads would hold a 512 KiB array for each thread that ever sent one.
/// Arrays are handed out rounded up to <see cref="Granule"/> bytes, so chunks of slightly
/// different sizes reuse one array. Thread-safe.
/// </summary>
public sealed class BoundedArrayPool : ArrayPool<byte>
{
    /// <summary>Array lengths are multiples of this: close enough to the need, few distinct sizes.</summary>
    public const int Granule = 16 * 1024;

    private readonly Lock _lock = new();
    private readonly byte[]?[] _kept;

    /// <summary>A pool that keeps up to <paramref name="maxKept"/> arrays of up to <paramref name="maxKeptLength"/> bytes between uses.</summary>
    public BoundedArrayPool(int maxKept, int maxKeptLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxKept);
        ArgumentOutOfRangeException.ThrowIfNegative(maxKeptLength);
        _kept = new byte[]?[maxKept];
        MaxKeptLength = maxKeptLength;
    }

    /// <summary>How many arrays the pool keeps between uses, at most.</summary>
    public int MaxKept => _kept.Length;

    /// <summary>The longest array the pool keeps; longer ones are left to the GC once returned.</summary>
    public int MaxKeptLength { get; }

    /// <summary>The bytes of the arrays kept now (not those rented out).</summary>
    public long KeptBytes
    {
        get
        {
            lock (_lock)
            {
                long sum = 0;
                foreach (var array in _kept)
                {
                    sum += array?.Length ?? 0;
                }

                return sum;
            }
        }
    }

    /// <summary>The smallest kept array of at least <paramref name="minimumLength"/> bytes, or a new one.</summary>
    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        lock (_lock)
        {
            var best = -1;
            for (var i = 0; i < _kept.Length; i++)
            {
                if (_kept[i] is { } array && array.Length >= minimumLength && (best < 0 || array.Length < _kept[best]!.Length))
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                var array = _kept[best]!;
                _kept[best] = null;
                return array;
            }
        }

        // Uninitialised: a frame buffer is written before it is read, like the shared pool's arrays.
        var rounded = (long)minimumLength + Granule - 1 - ((long)minimumLength + Granule - 1) % Granule;
        return GC.AllocateUninitializedArray<byte>((int)Math.Min(rounded, Array.MaxLength));
    }

    /// <summary>Keeps <paramref name="array"/> if it is not too long and there is room; otherwise keeps the larger of it and the smallest kept one.</summary>
    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (clearArray)
        {
            Array.Clear(array);
        }

        if (array.Length > MaxKeptLength)
        {
            return;
        }

        lock (_lock)
        {
            var smallest = -1;
            for (var i = 0; i < _kept.Length; i++)
            {
                if (_kept[i] is null)
                {
                    _kept[i] = array;
                    return;
                }

                if (smallest < 0 || _kept[i]!.Length < _kept[smallest]!.Length)
                {
                    smallest = i;
                }
            }

            // Full: a larger array serves more rents than a smaller one.
            if (smallest >= 0 && _kept[smallest]!.Length < array.Length)
            {
                _kept[smallest] = array;
            }
        }
    }
}
