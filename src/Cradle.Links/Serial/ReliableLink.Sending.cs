namespace Cradle.Links.Serial;

/// <summary>The sending side: one task writes new frames, resends and acknowledgements; the watchdog; the retransmission timer.</summary>
public sealed partial class ReliableLink
{
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

        var rto = TimeSpan.FromSeconds(_srtt + (4 * _rttvar));
        _rto = rto < _minRto ? _minRto : rto > _maxRto ? _maxRto : rto;
    }

    private async Task SendLoopAsync()
    {
        var batch = new List<(ushort Seq, LinkFrame Frame)>();
        try
        {
            while (true)
            {
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(20), _failed.Token).ConfigureAwait(false);
                batch.Clear();
                lock (_lock)
                {
                    CollectLocked(batch);
                }

                foreach (var (seq, frame) in batch)
                {
                    await _line.SendAsync(frame, _failed.Token).ConfigureAwait(false);
                    lock (_lock)
                    {
                        ref var slot = ref _window[seq % _window.Length];
                        if (slot.Buffer is not null && slot.Seq == seq && frame.Kind is LinkFrameKind.Data or LinkFrameKind.Close)
                        {
                            slot.LastSent = _time.GetTimestamp();
                        }
                    }
                }
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

    /// <summary>
    /// Fails the link when sent bytes stay unacknowledged too long. Separate from the sender,
    /// which may itself be stuck writing to a line that no longer drains.
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
                    if (_sendBase != _sendNext && _time.GetElapsedTime(_lastProgress) > _options.DeadAfter)
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

    private void CollectLocked(List<(ushort Seq, LinkFrame Frame)> batch)
    {
        var now = _time.GetTimestamp();

        var sack = SelectiveAcks();
        if (_answerPending)
        {
            _answerPending = false;
            batch.Add((0, new LinkFrame(LinkFrameKind.Answer, _session, 0, _receiveNext, sack, SerialLink.AnswerPayload)));
        }

        var backedOff = false;
        for (var seq = _sendBase; seq != _sendNext; seq = Next(seq))
        {
            ref var slot = ref _window[seq % _window.Length];
            var due = slot.Transmissions == 0
                || slot.ResendNow
                || (!slot.Held && _time.GetElapsedTime(slot.LastSent, now) > _rto);
            if (!due)
            {
                continue;
            }

            if (slot.Transmissions > 0 && !slot.ResendNow && !backedOff)
            {
                // The timer fired: double the timeout and keep it until a fresh measurement
                // (RFC 6298 5.5). Without this, round trips that grew with the queue in the port
                // are never measured (Karn) and every frame is resent for nothing.
                _rto = _rto * 2 > _maxRto ? _maxRto : _rto * 2;
                backedOff = true;
            }

            if (slot.Transmissions > 0)
            {
                Interlocked.Increment(ref _retransmissions);
            }

            slot.Transmissions++;
            slot.ResendNow = false;
            slot.LastSent = now;
            batch.Add((seq, new LinkFrame(slot.Kind, _session, seq, _receiveNext, sack, slot.Buffer.AsMemory(0, slot.Length))));
        }

        if (batch.Count == 0 && _ackPending)
        {
            batch.Add((0, new LinkFrame(LinkFrameKind.Ack, _session, 0, _receiveNext, sack, ReadOnlyMemory<byte>.Empty)));
        }

        _ackPending = false;
    }
}
