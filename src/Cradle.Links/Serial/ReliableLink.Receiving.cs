namespace Cradle.Links.Serial;

/// <summary>The receiving side: frames from the line, acknowledgements of ours, loss detection, in-order delivery.</summary>
public sealed partial class ReliableLink
{
    /// <summary>Send order (<c>Outgoing.CandidateOrder</c>) of the latest transmission known to have arrived.</summary>
    private long _highestDeliveredOrder = -1;

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
                if (!slot.Held)
                {
                    Delivered(ref slot, now);
                }

                slot = default;
                _sendBase = Next(_sendBase);
            }

            _lastAckProgress = now;
            _space.TrySetResult();
            _wake.Release();
        }

        for (var i = 0; sack != 0 && i < 32; i++)
        {
            if ((sack & (1u << i)) == 0)
            {
                continue;
            }

            var seq = unchecked((ushort)(ack + 1 + i));
            if (Distance(seq, _sendBase) < 0 || Distance(seq, _sendNext) >= 0)
            {
                continue;
            }

            ref var slot = ref _window[seq % _window.Length];
            if (!slot.Held && slot.Transmissions > 0)
            {
                slot.Held = true;
                slot.ResendNow = false;
                Delivered(ref slot, now);
                _lastAckProgress = now;
            }
        }

        // The line keeps order: a frame whose last transmission went out before a transmission
        // that arrived, and that the peer does not hold, was lost. Resend it at once.
        for (var seq = _sendBase; seq != _sendNext; seq = Next(seq))
        {
            ref var slot = ref _window[seq % _window.Length];
            if (!slot.Held && !slot.ResendNow && slot.Transmissions > 0 && slot.LastOrder < _highestDeliveredOrder)
            {
                slot.ResendNow = true;
                slot.LostByTimer = false;
                RecordOutcome(slot.Length, delivered: false);
                _wake.Release();
            }
        }
    }

    /// <summary>A frame of ours reached the peer: a round-trip sample (Karn: only from frames sent once), the sizer's evidence, the order mark.</summary>
    private void Delivered(ref Outgoing slot, long now)
    {
        if (slot.Transmissions == 1)
        {
            MeasureRoundTrip(_time.GetElapsedTime(slot.LastSent, now));
            ClockFromAcknowledgement(slot, now);
        }

        if (slot.Transmissions > 0)
        {
            RecordOutcome(slot.Length, delivered: true);
            _highestDeliveredOrder = Math.Max(_highestDeliveredOrder, slot.CandidateOrder);
        }
    }

    private void RecordOutcome(int payload, bool delivered)
    {
        if (_options.AdaptFrameSize)
        {
            _sizer.Record(FrameSizer.LineBytes(payload), delivered);
        }
    }

    private void OnData(LinkFrame frame)
    {
        _ackPending = true;
        _wake.Release();
        var ahead = Distance(frame.Seq, _receiveNext);
        if (ahead < 0 || ahead >= _receiveWindow)
        {
            return; // A duplicate (our ack was lost: acknowledged again above) or beyond the window.
        }

        if (ahead > 0)
        {
            if (_early.TryAdd(frame.Seq, frame))
            {
                _lastPeerProgress = _time.GetTimestamp();
            }

            return;
        }

        if (_receivedBytes > _options.MaxBufferedBytes)
        {
            _ackPending = false; // Not taken: the sender will resend it once the reader catches up.
            return;
        }

        _lastPeerProgress = _time.GetTimestamp();
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
}
