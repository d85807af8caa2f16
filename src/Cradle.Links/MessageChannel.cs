using System.Buffers;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.Links;

/// <summary>
/// Framed protobuf envelopes over a byte stream (normally TLS over a link). Sends are
/// serialized so that the keepalive can interleave with the session; receives answer pings
/// by themselves and fail with <see cref="LinkClosedException"/> when the peer is silent for
/// longer than <see cref="ChannelOptions.IdleTimeout"/> — silent at this layer and, when the
/// link can tell (<see cref="ILinkLiveness"/>), on the link too. A receive whose caller stops
/// waiting goes on: the message it brings, or its failure, is the next receive's.
/// </summary>
public sealed class MessageChannel : IAsyncDisposable
{
    /// <summary>The most payload bytes a frame gets room for before any of them arrived.</summary>
    public const int FirstReadLength = 64 * 1024;

    private readonly Stream _stream;
    private readonly ChannelOptions _options;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly byte[] _header = new byte[FrameCodec.HeaderLength];
    private readonly Task _keepalive;
    private readonly ILinkLiveness? _liveness;
    private long _lastSendTicks; // read by the keepalive loop: accessed with Volatile
    private long _lastHeardTicks; // read by the silence timer: accessed with Volatile
    private Task<Envelope>? _pending; // the receive under way: one receiver at a time
    private bool _disposed;

    /// <summary>A channel over <paramref name="stream"/>; <paramref name="liveness"/>: the link below, when it can tell that the peer is there though no message moves.</summary>
    public MessageChannel(Stream stream, ChannelOptions? options = null, ILinkLiveness? liveness = null)
    {
        _stream = stream;
        _liveness = liveness;
        _options = options ?? new ChannelOptions();
        _lastSendTicks = _options.Time.GetTimestamp();
        _keepalive = _options.KeepaliveInterval > TimeSpan.Zero ? KeepaliveLoopAsync(_closing.Token) : Task.CompletedTask;
    }

    /// <summary>
    /// Sends one envelope as one frame. When the link can tell that it takes no bytes (a TCP peer
    /// that stopped reading: every buffer full), a send that waits for longer than the idle
    /// timeout without progress fails with <see cref="LinkClosedException"/>: the peer is gone.
    /// </summary>
    public async ValueTask SendAsync(Envelope message, CancellationToken cancellationToken)
    {
        var size = message.CalculateSize();
        if (size > FrameCodec.MaxPayloadLength)
        {
            throw new ArgumentException($"message of {size} bytes exceeds the frame limit", nameof(message));
        }

        var buffer = ArrayPool<byte>.Shared.Rent(FrameCodec.HeaderLength + size);
        try
        {
            FrameCodec.WriteHeader(buffer, size);
            message.WriteTo(buffer.AsSpan(FrameCodec.HeaderLength, size));
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            var started = _options.Time.GetTimestamp();
            using var stall = _liveness?.SinceSendProgress is null ? null : new ProgressWatch(_options.Time, _options.IdleTimeout, () => SinceSent(started));
            using var sending = stall is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stall.Expired.Token);
            try
            {
                var token = sending?.Token ?? cancellationToken;
                await _stream.WriteAsync(buffer.AsMemory(0, FrameCodec.HeaderLength + size), token).ConfigureAwait(false);
                await _stream.FlushAsync(token).ConfigureAwait(false);
                Volatile.Write(ref _lastSendTicks, _options.Time.GetTimestamp());
            }
            catch (OperationCanceledException) when (stall is not null && stall.Expired.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new LinkClosedException($"nothing could be sent for {_options.IdleTimeout.TotalSeconds:0} s: the peer takes no data; the link is considered lost");
            }
            catch (IOException e)
            {
                throw new LinkClosedException($"the link dropped while sending: {e.Message}", e);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>How long a send begun at <paramref name="started"/> has gone without the link taking bytes.</summary>
    private TimeSpan SinceSent(long started)
    {
        var waited = _options.Time.GetElapsedTime(started);
        return _liveness?.SinceSendProgress is { } link && link < waited ? link : waited;
    }

    /// <summary>
    /// Receives the next envelope that is not a keepalive. Throws <see cref="LinkClosedException"/>
    /// when the peer closes or stays silent too long, <see cref="CradleProtocolException"/> on
    /// a bad frame. Cancelling stops the wait, not the receive: it goes on answering pings and
    /// watching for silence, and what it brings is the next call's (so an idle session can
    /// listen for a silent peer and still start a backup when it wants to).
    /// </summary>
    public async ValueTask<Envelope> ReceiveAsync(CancellationToken cancellationToken)
    {
        var pending = _pending ??= ReceiveNextAsync(_closing.Token);
        try
        {
            var message = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            _pending = null;
            return message;
        }
        catch (OperationCanceledException) when (!pending.IsCompleted || pending.IsCompletedSuccessfully)
        {
            // The caller stopped waiting; the receive goes on for the next caller.
            throw;
        }
        catch
        {
            _pending = null;
            throw;
        }
    }

    private async Task<Envelope> ReceiveNextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await ReceiveFrameAsync(cancellationToken).ConfigureAwait(false);
            switch (message.BodyCase)
            {
                case Envelope.BodyOneofCase.Ping:
                    await SendAsync(new Envelope { Pong = new Pong { Nonce = message.Ping.Nonce } }, cancellationToken).ConfigureAwait(false);
                    continue;
                case Envelope.BodyOneofCase.Pong:
                    continue;
                case Envelope.BodyOneofCase.None:
                    throw new CradleProtocolException("received an empty or unknown message");
                default:
                    return message;
            }
        }
    }

    private async ValueTask<Envelope> ReceiveFrameAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _lastHeardTicks, _options.Time.GetTimestamp());
        using var watch = new ProgressWatch(_options.Time, _options.IdleTimeout, SinceHeard);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watch.Expired.Token);
        try
        {
            await ReadExactlyAsync(_header, idle.Token).ConfigureAwait(false);
            var length = FrameCodec.ReadHeader(_header);
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Clamp(length, 1, FirstReadLength));
            try
            {
                // The buffer doubles as the payload arrives, so it never exceeds the bytes received by
                // more than 64 KiB: a peer that announces a 4 MiB frame and sends nothing more holds
                // 64 KiB of the host, not 4 MiB.
                var filled = 0;
                while (filled < length)
                {
                    if (filled == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(length, buffer.Length * 2));
                        buffer.AsSpan(0, filled).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var part = Math.Min(length, buffer.Length) - filled;
                    await ReadExactlyAsync(buffer.AsMemory(filled, part), idle.Token).ConfigureAwait(false);
                    filled += part;
                }

                try
                {
                    return Envelope.Parser.ParseFrom(new ReadOnlySequence<byte>(buffer, 0, length));
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new CradleProtocolException($"malformed message: {e.Message}", e);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (OperationCanceledException) when (watch.Expired.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new LinkClosedException($"the peer was silent for {_options.IdleTimeout.TotalSeconds:0} s; the link is considered lost");
        }
    }

    /// <summary>How long ago the peer was last heard: by this layer, or by the link below (serial: a frame acknowledged or received).</summary>
    private TimeSpan SinceHeard()
    {
        var heard = _options.Time.GetElapsedTime(Volatile.Read(ref _lastHeardTicks));
        return _liveness?.SincePeerProgress is { } link && link < heard ? link : heard;
    }

    /// <summary>
    /// Cancels <see cref="Expired"/> once <c>sinceProgress</c> reaches the timeout: checked when
    /// the timeout could first have passed, and again when it could next, as long as progress
    /// keeps coming.
    /// </summary>
    private sealed class ProgressWatch : IDisposable
    {
        private readonly Func<TimeSpan> _sinceProgress;
        private readonly TimeSpan _timeout;
        private readonly ITimer _timer;
        private readonly Lock _lock = new();
        private bool _disposed;

        public ProgressWatch(TimeProvider time, TimeSpan timeout, Func<TimeSpan> sinceProgress)
        {
            _sinceProgress = sinceProgress;
            _timeout = timeout;
            _timer = time.CreateTimer(static state => ((ProgressWatch)state!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }

        public CancellationTokenSource Expired { get; } = new();

        private void Check()
        {
            var left = _timeout - _sinceProgress();
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                if (left <= TimeSpan.Zero)
                {
                    Expired.Cancel();
                }
                else
                {
                    _timer.Change(left, Timeout.InfiniteTimeSpan);
                }
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
            }

            _timer.Dispose();
            Expired.Dispose();
        }
    }

    /// <summary>
    /// Reads a whole frame part. Silence is measured between reads, not over the frame: on a
    /// 115200-baud line one large frame takes minutes, and every byte of it proves the peer alive.
    /// </summary>
    private async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        try
        {
            while (!destination.IsEmpty)
            {
                var n = await _stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new LinkClosedException("the peer closed the link");
                }

                destination = destination[n..];
                Volatile.Write(ref _lastHeardTicks, _options.Time.GetTimestamp());
            }
        }
        catch (IOException e)
        {
            throw new LinkClosedException($"the link dropped: {e.Message}", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new LinkClosedException("the link was closed", e);
        }
    }

    private async Task KeepaliveLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.KeepaliveInterval / 2, _options.Time);
        // Closing disposes the timer, which ends the wait with false: a cancelled wait would end
        // it with an exception, whose stack trace a native AOT process builds from the method
        // names of the whole executable, at the end of every session.
        using var stop = cancellationToken.Register(static t => ((PeriodicTimer)t!).Dispose(), timer);
        ulong nonce = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (_options.Time.GetElapsedTime(Volatile.Read(ref _lastSendTicks)) >= _options.KeepaliveInterval)
                {
                    await SendAsync(new Envelope { Ping = new Ping { Nonce = ++nonce } }, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The channel is closing: the keepalive ends with it.
        }
        catch (LinkClosedException)
        {
            // The link is gone: the receive under way (there is one even in an idle session) reports it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _closing.CancelAsync().ConfigureAwait(false);
        await _keepalive.ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (_pending is { } pending)
        {
            // A receive nobody waits for any more ends with the stream; its outcome is of no use now.
            await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _closing.Dispose();
        _sendLock.Dispose();
    }
}

/// <summary>Timing of a message channel.</summary>
public sealed record ChannelOptions
{
    /// <summary>Send a ping when nothing was sent for this long. Zero turns keepalive off.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Give up on a peer that sent nothing (not even a ping) for this long: a suspended device
    /// or a pulled cable is noticed within this time.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Channel timing for an idle timeout given in seconds (the keepalive goes at a third of it).</summary>
    public static ChannelOptions ForIdleTimeout(double seconds)
    {
        if (seconds is < 1 or > 3600)
        {
            throw new ArgumentException($"--keepalive-timeout {seconds}: give 1 to 3600 seconds");
        }

        return new ChannelOptions { IdleTimeout = TimeSpan.FromSeconds(seconds), KeepaliveInterval = TimeSpan.FromSeconds(seconds / 3) };
    }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
