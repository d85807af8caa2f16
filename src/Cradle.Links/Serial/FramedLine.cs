using Cradle.Protocol;

namespace Cradle.Links.Serial;

/// <summary>
/// A raw byte line (a serial port) cut into <see cref="LinkFrame"/>s: one task reads the line
/// for as long as it is open and hands every intact frame to whoever listens now (an offer
/// waiter, or the session's <see cref="ReliableLink"/>); bytes that do not make an intact frame
/// are counted as noise and dropped. Sends are serialized.
/// </summary>
public sealed class FramedLine : IAsyncDisposable, IDisposable
{
    private readonly Stream _line;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly byte[] _sendBuffer = new byte[LinkFrame.MaxEncodedLength];
    private readonly Task _reader;
    private Action<LinkFrame>? _listener;
    private Exception? _failure;
    private long _bytesRead;
    private long _bytesWritten;
    private long _noiseBytes;
    private long _frames;

    /// <summary>A line over <paramref name="line"/>; <paramref name="baud"/> (8N1) when known, 0 when not (a pipe).</summary>
    public FramedLine(Stream line, string name, int baud = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baud);
        _line = line;
        Name = name;
        BytesPerSecond = baud / 10;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>The line's name for messages (a port path).</summary>
    public string Name { get; }

    /// <summary>What the line carries per second each way (8N1: baud / 10); 0 when unknown.</summary>
    public int BytesPerSecond { get; }

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Bytes that arrived and were not part of an intact frame.</summary>
    public long NoiseBytes => Interlocked.Read(ref _noiseBytes);

    /// <summary>Intact frames received.</summary>
    public long Frames => Interlocked.Read(ref _frames);

    /// <summary>Set when reading the line failed (the port went away); the line is then useless.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Fires (on the reader task) when the line fails.</summary>
    public event Action<Exception>? Failed;

    /// <summary>Routes every intact frame to <paramref name="listener"/> from now on (null: drop them).</summary>
    public void Listen(Action<LinkFrame>? listener) => Volatile.Write(ref _listener, listener);

    /// <summary>Sends one frame.</summary>
    public async ValueTask SendAsync(LinkFrame frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Failure is { } failure)
            {
                throw new LinkClosedException($"the serial line {Name} failed: {failure.Message}", failure);
            }

            var n = frame.Encode(_sendBuffer);
            await _line.WriteAsync(_sendBuffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            await _line.FlushAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytesWritten, n);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or UnauthorizedAccessException)
        {
            throw new LinkClosedException($"cannot write to the serial line {Name}: {e.Message}", e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var input = new byte[4096];
        var pending = new byte[LinkFrame.MaxEncodedLength];
        var used = 0;
        var overflow = false;
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var n = await _line.ReadAsync(input, _closing.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException("the line closed");
                }

                Interlocked.Add(ref _bytesRead, n);
                foreach (var b in input.AsSpan(0, n))
                {
                    if (b != 0)
                    {
                        // A run longer than any frame is noise: skip to the next delimiter.
                        if (used == pending.Length)
                        {
                            overflow = true;
                            Interlocked.Add(ref _noiseBytes, used);
                            used = 0;
                        }

                        pending[used++] = b;
                        continue;
                    }

                    if (!overflow && used > 0 && LinkFrame.TryDecode(pending.AsSpan(0, used), out var frame))
                    {
                        Interlocked.Increment(ref _frames);
                        Volatile.Read(ref _listener)?.Invoke(frame);
                    }
                    else
                    {
                        Interlocked.Add(ref _noiseBytes, used + 1);
                    }

                    used = 0;
                    overflow = false;
                }
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // Closing.
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or EndOfStreamException or UnauthorizedAccessException)
        {
            Volatile.Write(ref _failure, e);
            Failed?.Invoke(e);
        }
    }

    /// <summary>Closes the line without waiting for the reader to finish.</summary>
    public void Dispose()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        _closing.Cancel();
        _line.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        try
        {
            // Closing a port whose output does not drain (a stalled line) can block: bound it.
            await Task.Run(() => _line.Dispose()).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A port driver that ignores cancellation; the line is abandoned either way.
            return;
        }

        _closing.Dispose();
        _writeLock.Dispose();
    }
}
