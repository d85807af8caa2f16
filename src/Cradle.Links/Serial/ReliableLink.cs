namespace Cradle.Links.Serial;

/// <summary>
/// A reliable, ordered byte stream over a <see cref="FramedLine"/>: bytes are cut into numbered
/// frames, the receiver acknowledges the next number it expects plus a bitmap of the frames it
/// holds beyond it (selective acknowledgement), and the sender resends exactly the frames that
/// were lost: a frame not acknowledged while one sent after it was (the line keeps order), or
/// one whose retransmission timeout expired. Frames that arrive corrupted fail their CRC in
/// <see cref="LinkFrame"/> and are simply lost, so noise costs a retransmission, never a wrong
/// byte. TLS runs on top as over TCP.
/// </summary>
/// <remarks>
/// Link layer version 2 (docs/protocol.md §1.3): each data frame's size follows the losses seen
/// (<see cref="FrameSizer"/>); at a known baud the sender paces itself to the line, so a frame
/// to resend never queues behind seconds of new data in the port; up to 32 frames in flight
/// when the peer states it can hold them.
/// </remarks>
public sealed partial class ReliableLink : Stream, ILinkLiveness
{
    private readonly FramedLine _line;
    private readonly ushort _session;
    private readonly bool _answers;
    private readonly ReliableLinkOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Outgoing[] _window;
    private readonly int _sendWindow;
    private readonly int _receiveWindow;
    private readonly CancellationTokenSource _failed = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Task _sender;
    private readonly Task _watchdog;
    private readonly Dictionary<ushort, LinkFrame> _early = [];
    private readonly Queue<ReadOnlyMemory<byte>> _received = new();
    private readonly Queue<byte[]> _unsent = new();
    private readonly FrameSizer _sizer;

    private ushort _sendBase;
    private ushort _sendNext;
    private ushort _receiveNext;
    private long _lastAckProgress;
    private long _lastPeerProgress;
    private bool _ackPending;
    private bool _answerPending;
    private int _receivedBytes;
    private int _headOffset;
    private int _unsentBytes;
    private int _unsentOffset;
    private bool _closeRequested;
    private bool _closeQueued;
    private bool _peerClosed;
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _space = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IOException? _failure;
    private long _retransmissions;
    private long _framesSent;
    private bool _disposed;

    /// <summary>
    /// Starts a session on the line; <paramref name="answers"/> is true on the host's side, which
    /// answers repeated offers of it. <paramref name="peer"/>: what the peer stated in its Offer
    /// or Answer (null: nothing, a first-release peer).
    /// </summary>
    public ReliableLink(FramedLine line, ushort session, bool answers, ReliableLinkOptions? options = null, LinkCapabilities? peer = null)
    {
        _line = line;
        _session = session;
        _answers = answers;
        _options = (options ?? new ReliableLinkOptions()).Validate();
        _time = _options.Time;
        Capabilities = _options.Capabilities;
        // A side of the first release (tests stand for one with Version 1) reads nothing of the peer's.
        Peer = Capabilities.Version <= 1 ? LinkCapabilities.First : peer ?? LinkCapabilities.First;
        _receiveWindow = Capabilities.ReceiveWindow;
        _sendWindow = Math.Min(_options.Window, Peer.ReceiveWindow);
        _window = new Outgoing[_options.Window];
        _sizer = new FrameSizer();
        _bytesPerSecond = line.BytesPerSecond;
        _rto = ClampRto(_options.InitialRetransmitTimeout);
        _lastAckProgress = _lastPeerProgress = _lineFreeAt = _time.GetTimestamp();
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

    /// <summary>What this side stated to the peer.</summary>
    public LinkCapabilities Capabilities { get; }

    /// <summary>What the peer stated (the first release states nothing: version 1, 8 frames).</summary>
    public LinkCapabilities Peer { get; }

    /// <summary>Frames sent again after a loss.</summary>
    public long Retransmissions => Interlocked.Read(ref _retransmissions);

    /// <summary>Data and close frames sent, resends included.</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>The payload the next data frame carries, chosen from the losses seen.</summary>
    public int FramePayload
    {
        get { lock (_lock) { return _options.AdaptFrameSize ? _sizer.Payload : LinkFrame.MaxPayload; } }
    }

    /// <summary>The estimated chance per line byte that it ruins its frame.</summary>
    public double LossPerByte
    {
        get { lock (_lock) { return _sizer.LossPerByte; } }
    }

    /// <inheritdoc/>
    public TimeSpan? SincePeerProgress
    {
        get
        {
            lock (_lock)
            {
                return _failure is not null ? TimeSpan.MaxValue : _time.GetElapsedTime(Math.Max(_lastAckProgress, _lastPeerProgress));
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Bytes written are taken as frames are acknowledged: the time since the last acknowledgement.</remarks>
    public TimeSpan? SinceSendProgress
    {
        get
        {
            lock (_lock)
            {
                return _failure is not null ? TimeSpan.MaxValue : _time.GetElapsedTime(_lastAckProgress);
            }
        }
    }

    /// <summary>The link's state in one line, for logs.</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            return $"session {_session} ({Peer}): sent {_sendBase}..{_sendNext}, expecting {_receiveNext}, early {_early.Count}, buffered {_receivedBytes}, frame {_sizer.Payload} B, loss/byte {_sizer.LossPerByte:0.0e0}, rto {_rto.TotalMilliseconds:0} ms, resent {_retransmissions}, {(_failure is null ? "up" : _failure.Message)}";
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

    /// <summary>
    /// Queues the bytes for sending and returns; they are cut into frames when the line can take
    /// them, at the size chosen then. Waits while more than <see cref="ReliableLinkOptions.MaxUnsentBytes"/> wait.
    /// </summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            Task space;
            lock (_lock)
            {
                if (_failure is not null)
                {
                    throw Failure();
                }

                if (_closeRequested)
                {
                    throw new ObjectDisposedException(nameof(ReliableLink), "the link is closing");
                }

                var room = _options.MaxUnsentBytes - _unsentBytes;
                if (room > 0)
                {
                    var n = Math.Min(room, buffer.Length);
                    _unsent.Enqueue(buffer[..n].ToArray());
                    _unsentBytes += n;
                    buffer = buffer[n..];
                    _wake.Release();
                    continue;
                }

                if (_space.Task.IsCompleted)
                {
                    _space = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                space = _space.Task;
            }

            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _failed.Token);
            try
            {
                await space.WaitAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_failed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw Failure();
            }
        }
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
        _space.TrySetResult();
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

    /// <summary>
    /// Says goodbye on the line (a numbered close after the bytes still queued, waited for
    /// briefly), then stops; the line stays open for the next session.
    /// </summary>
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
            lock (_lock)
            {
                _closeRequested = true;
                _wake.Release();
            }

            while (!timeout.IsCancellationRequested)
            {
                lock (_lock)
                {
                    if ((_closeQueued && _sendBase == _sendNext) || _failure is not null)
                    {
                        break;
                    }
                }

                await Task.Delay(10, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
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

        /// <summary>When the line, as paced, has sent the last transmission (a timestamp).</summary>
        public long PacedUntil;

        /// <summary>Send order of the last transmission (see <c>_sendOrder</c>).</summary>
        public long LastOrder;

        /// <summary>Send order of the earliest transmission not known lost: if the frame is acknowledged, this one or a later one arrived.</summary>
        public long CandidateOrder;

        /// <summary>The peer holds it (selectively acknowledged): never resent.</summary>
        public bool Held;

        /// <summary>Lost, to be sent again at the next chance.</summary>
        public bool ResendNow;

        /// <summary>Judged lost by its timer, not for certain: the earlier transmission may still arrive.</summary>
        public bool LostByTimer;
    }
}
