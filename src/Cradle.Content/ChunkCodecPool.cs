namespace Cradle.Content;

/// <summary>
/// zstd contexts shared by many sessions: the host's sessions check received chunks with
/// them, and pack writers compress their compression groups with them (<see cref="Shared"/>). A session needs one only while it decompresses one chunk, with no await in
/// between, so a few serve any number of sessions; a context per session held its native
/// memory (about 100 KB, mostly the decompression context) for the session's whole life.
/// At most <see cref="Capacity"/> idle contexts are kept: when more threads decompress at once
/// more are made, and those returned to a full pool are disposed. Thread-safe.
/// </summary>
public sealed class ChunkCodecPool : IDisposable
{
    /// <summary>The process's pool for pack writers; never disposed.</summary>
    public static ChunkCodecPool Shared { get; } = new(Math.Max(2, Environment.ProcessorCount));

    private readonly Stack<ChunkCodec> _idle = new();
    private long _created;
    private bool _disposed;

    public ChunkCodecPool(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Most idle contexts kept.</summary>
    public int Capacity { get; }

    /// <summary>Contexts waiting in the pool now.</summary>
    public int Idle
    {
        get
        {
            lock (_idle)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>Contexts made so far (a context returned to a full pool was disposed, so this counts those too).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>A context for this thread's use until <see cref="Return"/>; made when none is idle.</summary>
    public ChunkCodec Rent()
    {
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_idle.TryPop(out var codec))
            {
                return codec;
            }
        }

        Interlocked.Increment(ref _created);
        return new ChunkCodec();
    }

    /// <summary>Gives a context back: kept for the next <see cref="Rent"/>, or disposed when the pool is full or disposed.</summary>
    public void Return(ChunkCodec codec)
    {
        lock (_idle)
        {
            if (!_disposed && _idle.Count < Capacity)
            {
                _idle.Push(codec);
                return;
            }
        }

        codec.Dispose();
    }

    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            while (_idle.TryPop(out var codec))
            {
                codec.Dispose();
            }
        }
    }
}
