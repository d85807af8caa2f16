using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using Cradle.ActiveSync.Wire;
using Cradle.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cradle.ActiveSync.Rapi;

/// <summary>
/// One RAPI session: a connection the device opened at the host's request, carrying requests and
/// their replies in order. Several requests may be in flight at once
/// (<see cref="ActiveSyncOptions.MaxRequestsInFlight"/>): requests are written in the order they are
/// made and replies matched to them in that order. Every reply is awaited with a deadline; a reply
/// that breaks the format, a deadline missed or the connection lost ends the session for every
/// call in flight (a stream whose framing is in doubt cannot be trusted again). A call the device
/// answers with an error ends only that call (<see cref="RapiCallException"/>).
/// </summary>
public sealed partial class RapiClient : IAsyncDisposable
{
    private const int ReplyHeaderBytes = 4;

    private static readonly LinkClosedException ClosedByHost = new("the RAPI session was closed by the host");

    private readonly Stream _stream;
    private readonly ActiveSyncOptions _options;
    private readonly ILogger _logger;
    private readonly string _deviceLabel;
    private readonly SemaphoreSlim _inFlight;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<PendingCall> _pending = Channel.CreateUnbounded<PendingCall>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _readLoop;
    private readonly CancellationTokenSource _stop = new();
    private Exception? _fault;
    private long _bytesReceived;

    public RapiClient(Stream stream, RapiVersion version, ActiveSyncOptions? options = null, ILogger? logger = null, string deviceLabel = "device")
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        Version = version;
        _options = (options ?? new ActiveSyncOptions()).Validate();
        _logger = logger ?? NullLogger.Instance;
        _deviceLabel = deviceLabel;
        _inFlight = new SemaphoreSlim(_options.MaxRequestsInFlight, _options.MaxRequestsInFlight);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    public RapiVersion Version { get; }

    /// <summary>Reply bytes received so far (the frames' bodies), for progress and figures.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>True once the session has ended (the reason is what every later call throws).</summary>
    public bool IsBroken => Volatile.Read(ref _fault) is not null;

    /// <summary>Makes one call and awaits its reply.</summary>
    internal async ValueTask<T> CallAsync<T>(RapiCall call, byte[] request, int maxReply, ReplyDecoder<T> decode, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(call, request, maxReply, decode, cancellationToken).ConfigureAwait(false);
        return await reply.ConfigureAwait(false);
    }

    /// <summary>
    /// Writes one request and returns, once it is on the wire, the task of its reply: several
    /// requests can be sent before the first reply is read (the pipelined reader does).
    /// </summary>
    internal async ValueTask<Task<T>> SendAsync<T>(RapiCall call, byte[] request, int maxReply, ReplyDecoder<T> decode, CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        var pending = new PendingCall<T>(call, maxReply, decode);
        using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token))
        {
            // Waiting for a slot or for the writer ends when the session breaks, not only when the caller gives up.
            try
            {
                await _inFlight.WaitAsync(waiting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                ThrowIfBroken();
                throw;
            }

            try
            {
                await _writeLock.WaitAsync(waiting.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _inFlight.Release();
                ThrowIfBroken();
                throw;
            }
            catch (OperationCanceledException)
            {
                _inFlight.Release();
                throw;
            }
        }

        try
        {
            ThrowIfBroken();

            // Queued before it is written so that the reply, which may come at once, finds it. The
            // queue is closed when the session broke after the check above (the control connection
            // ended meanwhile): a call queued nowhere would wait for ever for its reply.
            if (!_pending.Writer.TryWrite(pending))
            {
                ThrowIfBroken();
                throw new LinkClosedException($"the RAPI session has ended before the {call.Name} request");
            }

            await StreamIo.WriteAsync(_stream, request, _options.ReplyTimeout, _options.Time, $"the {call.Name} request", cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            // A request half written leaves the stream unusable for the next one.
            Break(new LinkClosedException($"the {call.Name} request was cancelled while it was being sent", e));
            throw;
        }
        catch (CradleException e)
        {
            Break(e);
            throw;
        }
        finally
        {
            _writeLock.Release();
        }

        // A caller that gives up cannot take its reply back off the wire: the session ends, and with
        // it every call in flight, so no reply is ever decoded into a buffer its caller let go of.
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(static state =>
            {
                var (client, call) = ((RapiClient, RapiCall))state!;
                client.Break(new OperationCanceledException($"a {call.Name} call was cancelled; the RAPI session is closed"));
            }, (this, call));
            _ = pending.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return pending.Task;
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[ReplyHeaderBytes];
        try
        {
            while (await _pending.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (_pending.Reader.TryPeek(out var call))
                {
                    await StreamIo.ReadExactlyAsync(_stream, header, _options.ReplyTimeout, _options.Time, $"the {call.Call.Name} reply", _stop.Token).ConfigureAwait(false);
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
                    if (length > (uint)call.MaxReply)
                    {
                        throw ActiveSyncProtocolException.Malformed($"{call.Call.Name} reply", $"it says {length} bytes, more than the {call.MaxReply} this call can need");
                    }

                    var body = ArrayPool<byte>.Shared.Rent((int)length);
                    try
                    {
                        await StreamIo.ReadExactlyAsync(_stream, body.AsMemory(0, (int)length), _options.ReplyTimeout, _options.Time, $"the {call.Call.Name} reply", _stop.Token).ConfigureAwait(false);
                        Interlocked.Add(ref _bytesReceived, length);
                        _pending.Reader.TryRead(out _);
                        var malformed = call.Complete(body.AsSpan(0, (int)length));
                        _inFlight.Release();
                        if (malformed is not null)
                        {
                            throw malformed;
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(body);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed or broken: Break has failed every call already.
        }
        catch (CradleException e)
        {
            Break(e);
        }
        finally
        {
            // Whatever stopped the loop, no call may wait for a reply that nobody will read.
            Break(new LinkClosedException("the RAPI session stopped reading replies"));
        }
    }

    /// <summary>Ends the session at once (the device's control connection is gone): every call in flight fails with <paramref name="reason"/>.</summary>
    internal void Abort(string reason) => Break(new LinkClosedException(reason));

    private void Break(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _fault, reason, null) is not null)
        {
            return;
        }

        if (reason is not OperationCanceledException && !ReferenceEquals(reason, ClosedByHost))
        {
            ActiveSyncLog.RapiBroken(_logger, _deviceLabel, reason.Message);
        }

        _stop.Cancel();
        _pending.Writer.TryComplete();
        while (_pending.Reader.TryRead(out var call))
        {
            call.Fail(reason);
        }

        _stream.Dispose();
    }

    private void ThrowIfBroken()
    {
        var fault = Volatile.Read(ref _fault);
        if (fault is null)
        {
            return;
        }

        throw fault switch
        {
            ActiveSyncProtocolException => new ActiveSyncProtocolException($"the RAPI session has ended: {fault.Message}", fault),
            OperationCanceledException => new LinkClosedException($"the RAPI session has ended: {fault.Message}", fault),
            CradleException { IsTransient: false } => new ActiveSyncProtocolException($"the RAPI session has ended: {fault.Message}", fault),
            _ => new LinkClosedException($"the RAPI session has ended: {fault.Message}", fault),
        };
    }

    public async ValueTask DisposeAsync()
    {
        // Closed when its work is done: an ending, not a breakage worth a warning.
        Break(ClosedByHost);
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
            _writeLock.Dispose();
        }
    }

    internal delegate T ReplyDecoder<out T>(ReadOnlySpan<byte> body);

    private abstract class PendingCall(RapiCall call, int maxReply)
    {
        public RapiCall Call { get; } = call;

        public int MaxReply { get; } = maxReply;

        /// <summary>Decodes the reply; returns the exception that must end the session, if the reply broke the format.</summary>
        public abstract ActiveSyncProtocolException? Complete(ReadOnlySpan<byte> body);

        public abstract void Fail(Exception reason);
    }

    private sealed class PendingCall<T>(RapiCall call, int maxReply, ReplyDecoder<T> decode) : PendingCall(call, maxReply)
    {
        private readonly TaskCompletionSource<T> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private bool _done;

        public Task<T> Task => _reply.Task;

        public override ActiveSyncProtocolException? Complete(ReadOnlySpan<byte> body)
        {
            // Decoding runs under the gate so that a Fail racing with it (the session breaking)
            // waits: the caller never sees its task end while its buffer is still being written.
            lock (_gate)
            {
                if (_done)
                {
                    return null;
                }

                _done = true;
                try
                {
                    _reply.SetResult(decode(body));
                    return null;
                }
                catch (RapiCallException e)
                {
                    _reply.SetException(e);
                    return null;
                }
                catch (ActiveSyncProtocolException e)
                {
                    _reply.SetException(e);
                    return e;
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or OverflowException or FormatException or IndexOutOfRangeException)
                {
                    // Bytes from the device that a decoder did not foresee are still the device's fault.
                    var malformed = new ActiveSyncProtocolException($"malformed {Call.Name} reply from the device: {e.Message}", e);
                    _reply.SetException(malformed);
                    return malformed;
                }
            }
        }

        public override void Fail(Exception reason)
        {
            lock (_gate)
            {
                if (_done)
                {
                    return;
                }

                _done = true;
            }

            _reply.SetException(reason switch
            {
                ActiveSyncProtocolException p => new ActiveSyncProtocolException(p.Message, p),
                OperationCanceledException c => new OperationCanceledException(c.Message, c),
                CradleException { IsTransient: true } t => new LinkClosedException(t.Message, t),
                CradleException other => new ActiveSyncProtocolException(other.Message, other),
                _ => new LinkClosedException(reason.Message, reason),
            });
        }
    }
}
