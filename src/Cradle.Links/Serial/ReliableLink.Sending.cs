namespace Cradle.Links.Serial;

/// <summary>
/// The sending side: one task decides, each time the line can take a frame, what goes next —
/// a lost frame, else new bytes cut at the size chosen now, else a bare acknowledgement — and
/// paces itself to the line; the retransmission timer; the watchdog.
/// </summary>
public sealed partial class ReliableLink
{
    /// <summary>The longest the sender sleeps while nothing is due (a timer may fall due meanwhile).</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(50);

    /// <summary>Line time the sender keeps queued in the port beyond two frames, so the line never idles while it wakes.</summary>
    private static readonly TimeSpan QueueAhead = TimeSpan.FromMilliseconds(60);

    private readonly int _bytesPerSecond;
    private long _lineFreeAt;
    private long _sendOrder;
    private double _srtt;
    private double _rttvar;
    private TimeSpan _rto;

    private void MeasureRoundTrip(TimeSpan sample)
    {
        var r = sample.TotalSeconds;
        if (_srtt == 0)
        {
            _srtt = r;
            _rttvar = r / 2;
        }
        else
        {
            _rttvar = (0.75 * _rttvar) + (0.25 * Math.Abs(_srtt - r));
            _srtt = (0.875 * _srtt) + (0.125 * r);
        }

        _rto = ClampRto(TimeSpan.FromSeconds(_srtt + (4 * _rttvar)));
    }

    /// <summary>
    /// The timeout between its bounds. The floor holds, on a line of known rate, the time a
    /// frame and the frames queued ahead of it take on the line, twice over, plus 0.2 s: a
    /// timeout on a clean line only sends a frame twice (lost frames are found sooner: by the
    /// order of the line, and by probes when the line would idle).
    /// </summary>
    private TimeSpan ClampRto(TimeSpan rto)
    {
        var floor = _options.MinRetransmitTimeout;
        if (_bytesPerSecond > 0)
        {
            var frame = TimeSpan.FromSeconds((double)FrameSizer.LineBytes(CurrentPayload()) / _bytesPerSecond);
            floor = Max(floor, (2 * (Ahead() + frame)) + TimeSpan.FromMilliseconds(200));
        }

        var ceiling = Max(_options.MaxRetransmitTimeout, floor * 2);
        return rto < floor ? floor : rto > ceiling ? ceiling : rto;
    }

    /// <summary>How much line time may wait in the port before the sender holds back: two frames of the size in use, or <see cref="QueueAhead"/>.</summary>
    private TimeSpan Ahead() =>
        _bytesPerSecond <= 0 ? TimeSpan.Zero : Max(TimeSpan.FromSeconds(2.0 * FrameSizer.LineBytes(CurrentPayload()) / _bytesPerSecond), QueueAhead);

    /// <summary>How long after its last send an unacknowledged frame is sent again when the line would otherwise idle.</summary>
    private TimeSpan ProbeAfter()
    {
        var roundTrip = _srtt > 0 ? TimeSpan.FromSeconds(1.5 * _srtt) : _rto;
        var frame = _bytesPerSecond > 0 ? TimeSpan.FromSeconds(2.0 * FrameSizer.LineBytes(CurrentPayload()) / _bytesPerSecond) : TimeSpan.Zero;
        return Max(Max(roundTrip, frame + TimeSpan.FromMilliseconds(20)), _options.MinRetransmitTimeout);
    }

    private int CurrentPayload() => _options.AdaptFrameSize ? _sizer.Payload : LinkFrame.MaxPayload;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                LinkFrame? next;
                TimeSpan wait;
                lock (_lock)
                {
                    next = NextFrameLocked(out wait);
                }

                if (next is { } frame)
                {
                    await _line.SendAsync(frame, _failed.Token).ConfigureAwait(false);
                    continue;
                }

                await _wake.WaitAsync(wait, _failed.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_failed.IsCancellationRequested)
        {
            // The link failed or closed.
        }
        catch (Exception e) when (e is Protocol.LinkClosedException or IOException)
        {
            lock (_lock)
            {
                FailLocked(e.Message);
            }
        }
    }

    /// <summary>The frame to send now, or null and how long to wait before asking again.</summary>
    private LinkFrame? NextFrameLocked(out TimeSpan wait)
    {
        var now = _time.GetTimestamp();
        wait = IdlePoll;
        if (_answerPending)
        {
            _answerPending = false;
            return Paced(new LinkFrame(LinkFrameKind.Answer, _session, Capabilities.Encode(), _receiveNext, SelectiveAcks(), SerialLink.AnswerPayload), now);
        }

        var untilExpiry = CheckTimersLocked(now);
        var lineWait = _bytesPerSecond <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, (long)((_lineFreeAt - now) * (double)TimeSpan.TicksPerSecond / _time.TimestampFrequency))) - Ahead();
        var hasNew = Distance(_sendNext, _sendBase) < _sendWindow && (_unsentBytes > 0 || (_closeRequested && !_closeQueued));
        var hasLost = false;
        for (var seq = _sendBase; seq != _sendNext && !hasLost; seq = Next(seq))
        {
            hasLost = _window[seq % _window.Length] is { ResendNow: true, Held: false };
        }

        if (lineWait <= TimeSpan.Zero)
        {
            // Lost frames first, oldest first: the peer cannot deliver past the oldest hole.
            for (var seq = _sendBase; hasLost && seq != _sendNext; seq = Next(seq))
            {
                if (_window[seq % _window.Length] is { ResendNow: true, Held: false })
                {
                    return Transmit(seq, now);
                }
            }

            if (hasNew)
            {
                return Transmit(CutLocked(now), now);
            }

            // Nothing new can go (the window is full or nothing is written): rather than let the
            // line idle, send again the oldest frame not acknowledged a while after its last send.
            // On a point-to-point line a duplicate costs only time the line would not use, and a
            // lost frame with no later frame behind it to reveal the hole is repaired at once.
            var probeAfter = ProbeAfter();
            for (var seq = _sendBase; seq != _sendNext; seq = Next(seq))
            {
                ref var slot = ref _window[seq % _window.Length];
                if (slot.Held || slot.Transmissions == 0)
                {
                    continue;
                }

                var left = probeAfter - _time.GetElapsedTime(slot.LastSent, now);
                if (left <= TimeSpan.Zero)
                {
                    slot.LostByTimer = true; // uncertain: the earlier transmission may still arrive
                    return Transmit(seq, now);
                }

                untilExpiry = left < untilExpiry ? left : untilExpiry;
            }
        }

        if (_ackPending && (lineWait <= TimeSpan.Zero || !(hasNew || hasLost)))
        {
            // A bare acknowledgement, unless a frame that will carry it waits for the line anyway.
            return Paced(new LinkFrame(LinkFrameKind.Ack, _session, 0, _receiveNext, SelectiveAcks(), ReadOnlyMemory<byte>.Empty), now);
        }

        if ((hasNew || hasLost) && lineWait < wait)
        {
            wait = lineWait;
        }

        if (untilExpiry < wait)
        {
            wait = untilExpiry;
        }

        wait = wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
        return null;
    }

    /// <summary>
    /// Marks the frames whose retransmission timeout expired (oldest first decides: RFC 6298,
    /// the timeout doubles once and is kept until a fresh sample); returns the time until the
    /// next expiry.
    /// </summary>
    private TimeSpan CheckTimersLocked(long now)
    {
        var next = IdlePoll;
        var expired = false;
        for (var seq = _sendBase; seq != _sendNext; seq = Next(seq))
        {
            ref var slot = ref _window[seq % _window.Length];
            if (slot.Held || slot.ResendNow || slot.Transmissions == 0)
            {
                continue;
            }

            var left = _rto - _time.GetElapsedTime(slot.LastSent, now);
            if (left > TimeSpan.Zero)
            {
                next = left < next ? left : next;
                continue;
            }

            slot.ResendNow = true;
            slot.LostByTimer = true;
            expired = true;
        }

        if (expired)
        {
            _rto = ClampRto(_rto * 2);
        }

        return next;
    }

    /// <summary>Cuts the next frame from the bytes waiting (or the close after them) into the window.</summary>
    private ushort CutLocked(long now)
    {
        byte[] payload;
        LinkFrameKind kind;
        if (_unsentBytes > 0)
        {
            var size = Math.Min(CurrentPayload(), _unsentBytes);
            payload = new byte[size];
            var filled = 0;
            while (filled < size)
            {
                var head = _unsent.Peek();
                var n = Math.Min(size - filled, head.Length - _unsentOffset);
                head.AsSpan(_unsentOffset, n).CopyTo(payload.AsSpan(filled));
                filled += n;
                _unsentOffset += n;
                if (_unsentOffset == head.Length)
                {
                    _unsent.Dequeue();
                    _unsentOffset = 0;
                }
            }

            _unsentBytes -= size;
            kind = LinkFrameKind.Data;
            _space.TrySetResult();
        }
        else
        {
            payload = [];
            kind = LinkFrameKind.Close;
            _closeQueued = true;
        }

        if (_sendBase == _sendNext)
        {
            // The no-progress clock starts when there is something to acknowledge.
            _lastAckProgress = now;
        }

        var seq = _sendNext;
        _window[seq % _window.Length] = new Outgoing { Kind = kind, Seq = seq, Buffer = payload, Length = payload.Length };
        _sendNext = Next(_sendNext);
        return seq;
    }

    /// <summary>Sends (again) the frame in slot <paramref name="seq"/>, with the latest acknowledgement on it.</summary>
    private LinkFrame Transmit(ushort seq, long now)
    {
        ref var slot = ref _window[seq % _window.Length];
        var order = ++_sendOrder;
        if (slot.Transmissions > 0)
        {
            Interlocked.Increment(ref _retransmissions);
        }

        if (slot.Transmissions == 0 || !slot.LostByTimer)
        {
            // First send, or every earlier transmission is known lost: only this one can arrive.
            slot.CandidateOrder = order;
        }

        Interlocked.Increment(ref _framesSent);
        slot.Transmissions++;
        slot.LastOrder = order;
        slot.ResendNow = false;
        slot.LostByTimer = false;
        slot.LastSent = now;
        var frame = Paced(new LinkFrame(slot.Kind, _session, seq, _receiveNext, SelectiveAcks(), slot.Buffer.AsMemory(0, slot.Length)), now);
        slot.PacedUntil = _lineFreeAt;
        return frame;
    }

    /// <summary>
    /// A frame sent once has arrived: the line has carried it and everything written before it.
    /// If that was sooner than the pacing booked, the line is faster than its stated rate (a
    /// pseudo-terminal, a port set faster than the cable): the booked time beyond now is freed.
    /// On a line as fast as stated an acknowledgement never comes before the booked time.
    /// </summary>
    private void ClockFromAcknowledgement(in Outgoing slot, long now)
    {
        if (_bytesPerSecond > 0 && slot.Transmissions == 1 && slot.PacedUntil > now)
        {
            _lineFreeAt = Math.Max(now, _lineFreeAt - (slot.PacedUntil - now));
        }
    }

    /// <summary>Books the frame's time on the line (every frame carries the latest acknowledgement, so none is pending after it).</summary>
    private LinkFrame Paced(LinkFrame frame, long now)
    {
        _ackPending = false;
        if (_bytesPerSecond > 0)
        {
            var lineTicks = (long)((double)FrameSizer.LineBytes(frame.Payload.Length) / _bytesPerSecond * _time.TimestampFrequency);
            _lineFreeAt = Math.Max(_lineFreeAt, now) + lineTicks;
        }

        return frame;
    }

    /// <summary>
    /// Fails the link when no frame of ours is acknowledged for <see cref="ReliableLinkOptions.DeadAfter"/>
    /// while it has frames to deliver. Separate from the sender, which may itself be stuck
    /// writing to a line that no longer drains.
    /// </summary>
    private async Task WatchdogAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, _failed.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    if (_sendBase != _sendNext && _time.GetElapsedTime(_lastAckProgress) > _options.DeadAfter)
                    {
                        FailLocked($"the serial line {_line.Name} carried no acknowledgement for {_options.DeadAfter.TotalSeconds:0} s: the line is stalled or the peer is gone");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The link failed or closed.
        }
    }
}
