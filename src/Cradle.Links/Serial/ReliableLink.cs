namespace Cradle.Links.Serial;

/// <summary>
/// A reliable, ordered byte stream over a <see cref="FramedLine"/>: bytes are cut into numbered
/// frames, the receiver acknowledges the next number it expects plus a bitmap of the frames it
/// holds beyond it (selective acknowledgement), and the sender resends a frame when the bitmap
/// shows a hole or when its retransmission timeout (from measured round trips) expires. Frames
/// that arrive corrupted fail their CRC in <see cref="LinkFrame"/> and are simply lost, so
/// noise costs a retransmission, never a wrong byte. TLS runs on top as over TCP.
/// </summary>
public sealed partial class ReliableLink : Stream
{
    private readonly FramedLine _line;
    private readonly ushort _session;
    private readonly bool _answers;
    private readonly ReliableLinkOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Outgoing[] _window;
    private readonly SemaphoreSlim _windowSpace;
    private readonly CancellationTokenSource _failed = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Task _sender;
    private readonly Task _watchdog;
    private readonly Dictionary<ushort, LinkFrame> _early = [];
    private readonly Queue<ReadOnlyMemory<byte>> _received = new();

    private ushort _sendBase;
    private ushort _sendNext;
    private ushort _receiveNext;
    private long _lastProgress;
    private bool _ackPending;
    private bool _answerPending;
    private int _receivedBytes;
    private int _headOffset;
    private bool _peerClosed;
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IOException? _failure;
    private double _srtt;
    private double _rttvar;
    private TimeSpan _rto;
    private readonly TimeSpan _minRto;
    private readonly TimeSpan _maxRto;
    private long _retransmissions;
    private bool _disposed;

    /// <summary>Starts a session on the line; <paramref name="answers"/> is true on the host's side, which answers repeated offers of it.</summary>
    public ReliableLink(FramedLine line, ushort session, bool answers, ReliableLinkOptions? options = null)
    {
        _line = line;
        _session = session;
        _answers = answers;
        _options = (options ?? new ReliableLinkOptions()).Validate();
        _time = _options.Time;
        // A full window may wait in the port's output queue before it goes out: no timeout may
        // be shorter than the line needs to send it (0.7 s at 115200 baud, 8.7 s at 9600).
        var drain = line.BytesPerSecond > 0 ? TimeSpan.FromSeconds(1.5 * _options.Window * LinkFrame.MaxEncodedLength / line.BytesPerSecond) + TimeSpan.FromMilliseconds(200) : TimeSpan.Zero;
        _minRto = drain > _options.MinRetransmitTimeout ? drain : _options.MinRetransmitTimeout;
        _maxRto = _minRto * 2 > _options.MaxRetransmitTimeout ? _minRto * 2 : _options.MaxRetransmitTimeout;
        _rto = _options.InitialRetransmitTimeout > _minRto ? _options.InitialRetransmitTimeout : _minRto;
        _window = new Outgoing[_options.Window];
        _windowSpace = new SemaphoreSlim(_options.Window, _options.Window);
        _lastProgress = _time.GetTimestamp();
        line.Failed += OnLineFailed;
        line.Listen(OnFrame);
        if (line.Failure is { } failure)
        {
            OnLineFailed(failure);
        }

        _sender = Task.Run(SendLoopAsync);
        _watchdog = Task.Run(WatchdogAsync);
    }

    public ushort Session => _session;

    /// <summary>Frames sent again after a loss.</summary>
    public long Retransmissions => Interlocked.Read(ref _retransmissions);

    /// <summary>The link's state in one line, for logs.</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            return $"session {_session}: sent {_sendBase}..{_sendNext}, expecting {_receiveNext}, early {_early.Count}, buffered {_receivedBytes}, rto {_rto.TotalMilliseconds:0} ms, resent {_retransmissions}, {(_failure is null ? "up" : _failure.Message)}";
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, LinkFrame.MaxPayload);
            await EnqueueAsync(LinkFrameKind.Data, buffer[..n], cancellationToken).ConfigureAwait(false);
            buffer = buffer[n..];
        }
    }

    private async ValueTask EnqueueAsync(LinkFrameKind kind, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _failed.Token);
        try
        {
            await _windowSpace.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_failed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Failure();
        }

        // Not pooled: a resend in progress may still read a frame's bytes after it was acknowledged.
        var copy = payload.ToArray();
        lock (_lock)
        {
            if (_failure is not null)
            {
                throw Failure();
            }

            if (_sendBase == _sendNext)
            {
                _lastProgress = _time.GetTimestamp();
            }

            _window[_sendNext % _window.Length] = new Outgoing { Kind = kind, Seq = _sendNext, Buffer = copy, Length = payload.Length };
            _sendNext = Next(_sendNext);
        }

        _wake.Release();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            Task arrival;
            lock (_lock)
            {
                if (_received.Count > 0)
                {
                    var copied = 0;
                    while (copied < buffer.Length && _received.TryPeek(out var segment))
                    {
                        var rest = segment[_headOffset..];
                        var n = Math.Min(rest.Length, buffer.Length - copied);
                        rest[..n].CopyTo(buffer[copied..]);
                        copied += n;
                        if (n == rest.Length)
                        {
                            _received.Dequeue();
                            _headOffset = 0;
                        }
                        else
                        {
                            _headOffset += n;
                        }
                    }

                    _receivedBytes -= copied;
                    return copied;
                }

                if (_peerClosed)
                {
                    return 0;
                }

                if (_failure is not null)
                {
                    throw Failure();
                }

                if (_arrival.Task.IsCompleted)
                {
                    _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                arrival = _arrival.Task;
            }

            await arrival.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnFrame(LinkFrame frame)
    {
        lock (_lock)
        {
            if (_failure is not null)
            {
                return;
            }

            if (frame.Kind == LinkFrameKind.Offer)
            {
                if (!_answers)
                {
                    return;
                }

                if (frame.Session == _session)
                {
                    // Our answer was lost: the device still offers the same session.
                    _answerPending = true;
                    _wake.Release();
                    return;
                }

                FailLocked("the device started a new session on the line");
                return;
            }

            if (frame.Session != _session || frame.Kind == LinkFrameKind.Answer)
            {
                return;
            }

            if (frame.Kind == LinkFrameKind.Reset)
            {
                FailLocked("the peer has no such session any more (reset)");
                return;
            }

            OnAcknowledgement(frame.Ack, frame.Sack);
            if (frame.Kind is LinkFrameKind.Data or LinkFrameKind.Close)
            {
                OnData(frame);
            }
        }
    }

    private void OnAcknowledgement(ushort ack, uint sack)
    {
        var now = _time.GetTimestamp();
        var acked = Distance(ack, _sendBase);
        if (acked > 0 && acked <= Distance(_sendNext, _sendBase))
        {
            for (var i = 0; i < acked; i++)
            {
                ref var slot = ref _window[_sendBase % _window.Length];
                if (slot.Transmissions == 1 && !slot.Held)
                {
                    // Karn: only a frame sent once and not known received before tells the round trip.
                    MeasureRoundTrip(_time.GetElapsedTime(slot.LastSent, now));
                }

                slot = default;
                _sendBase = Next(_sendBase);
                _windowSpace.Release();
            }

            _lastProgress = now;
        }

        if (sack == 0)
        {
            return;
        }

        // Holes below the highest frame the peer holds were lost: resend them now, once per round trip.
        var highest = 31 - uint.LeadingZeroCount(sack);
        for (var i = 0; i <= highest; i++)
        {
            var seq = unchecked((ushort)(ack + 1 + i));
            if (Distance(seq, _sendBase) < 0 || Distance(seq, _sendNext) >= 0)
            {
                continue;
            }

            ref var slot = ref _window[seq % _window.Length];
            if ((sack & (1u << i)) != 0 && !slot.Held)
            {
                slot.Held = true;
                if (slot.Transmissions == 1)
                {
                    MeasureRoundTrip(_time.GetElapsedTime(slot.LastSent, now));
                }
            }
        }

        for (var seq = ack; Distance(seq, _sendNext) < 0 && Distance(seq, unchecked((ushort)(ack + 1 + highest))) < 0; seq = Next(seq))
        {
            if (Distance(seq, _sendBase) < 0)
            {
                continue;
            }

            ref var slot = ref _window[seq % _window.Length];
            if (!slot.Held && slot.Transmissions > 0 && _time.GetElapsedTime(slot.LastSent, now) > TimeSpan.FromSeconds(Math.Max(_srtt, _options.MinRetransmitTimeout.TotalSeconds)))
            {
                slot.ResendNow = true;
                _wake.Release();
            }
        }
    }

    private void OnData(LinkFrame frame)
    {
        _ackPending = true;
        _wake.Release();
        var ahead = Distance(frame.Seq, _receiveNext);
        if (ahead < 0 || ahead >= _window.Length)
        {
            return; // A duplicate (our ack was lost: acknowledged again above) or beyond the window.
        }

        if (ahead > 0)
        {
            _early[frame.Seq] = frame;
            return;
        }

        if (_receivedBytes > _options.MaxBufferedBytes)
        {
            _ackPending = false; // Not taken: the sender will resend it once the reader catches up.
            return;
        }

        Deliver(frame);
        while (_early.Remove(_receiveNext, out var next))
        {
            Deliver(next);
        }
    }

    private void Deliver(LinkFrame frame)
    {
        _receiveNext = Next(_receiveNext);
        if (frame.Kind == LinkFrameKind.Close)
        {
            _peerClosed = true;
        }
        else if (!frame.Payload.IsEmpty)
        {
            _received.Enqueue(frame.Payload);
            _receivedBytes += frame.Payload.Length;
        }

        _arrival.TrySetResult();
    }

    private uint SelectiveAcks()
    {
        uint sack = 0;
        foreach (var seq in _early.Keys)
        {
            var bit = Distance(seq, _receiveNext) - 1;
            if (bit is >= 0 and < 32)
            {
                sack |= 1u << bit;
            }
        }

        return sack;
    }

    private void OnLineFailed(Exception e)
    {
        lock (_lock)
        {
            FailLocked($"the serial line {_line.Name} failed: {e.Message}");
        }
    }

    private void FailLocked(string reason)
    {
        if (_failure is not null)
        {
            return;
        }

        _failure = new IOException(reason);
        _failed.Cancel();
        _arrival.TrySetResult();
    }

    private IOException Failure() => new(_failure!.Message, _failure);

    private static ushort Next(ushort seq) => unchecked((ushort)(seq + 1));

    /// <summary>How far <paramref name="a"/> is ahead of <paramref name="b"/> in sequence space.</summary>
    private static int Distance(ushort a, ushort b) => unchecked((short)(a - b));

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the serial link is asynchronous only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("the serial link is asynchronous only");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Says goodbye on the line (a numbered close, waited for briefly), then stops; the line stays open for the next session.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await EnqueueAsync(LinkFrameKind.Close, ReadOnlyMemory<byte>.Empty, timeout.Token).ConfigureAwait(false);
            while (!timeout.IsCancellationRequested)
            {
                lock (_lock)
                {
                    if (_sendBase == _sendNext || _failure is not null)
                    {
                        break;
                    }
                }

                await Task.Delay(10, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The close is a courtesy; the peer's own timeouts end its side.
        }

        _line.Listen(null);
        _line.Failed -= OnLineFailed;
        lock (_lock)
        {
            FailLocked("the link is closed");
        }

        await _watchdog.ConfigureAwait(false);
        try
        {
            // A sender stuck in a write to a line that does not drain is left behind.
            await _sender.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return;
        }

        _failed.Dispose();
        _windowSpace.Dispose();
        _wake.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A synchronous dispose cannot wait for the close to be acknowledged: it just stops.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _line.Listen(null);
            _line.Failed -= OnLineFailed;
            lock (_lock)
            {
                FailLocked("the link is closed");
            }
        }

        base.Dispose(disposing);
    }

    private struct Outgoing
    {
        public LinkFrameKind Kind;
        public ushort Seq;
        public byte[]? Buffer;
        public int Length;
        public int Transmissions;
        public long LastSent;
        public bool Held;
        public bool ResendNow;
    }
}
