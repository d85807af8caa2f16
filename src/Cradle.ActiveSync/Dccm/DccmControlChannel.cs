using System.Net;
using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Wire;
using Cradle.Protocol;
using RefusalClass = Cradle.Protocol.Messages.RefusalClass;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cradle.ActiveSync.Dccm;

/// <summary>Where a device's control connection stands.</summary>
public enum DccmState
{
    /// <summary>Before the info message.</summary>
    Handshake,

    /// <summary>The device is locked: a password (WM5) or an unlock on its screen (WM6) comes first.</summary>
    Locked,

    /// <summary>RAPI sessions can be opened.</summary>
    Connected,

    /// <summary>The control connection has ended (cable out, the device left, the host closed it).</summary>
    Closed,
}

/// <summary>
/// The host side of one device's DCCM control connection (RNDIS variant): the handshake (0 → 3,
/// optional 6 → 7 8 4 5, then 4 and the info message), unlocking, the keepalive, and RAPI sessions
/// asked for with 5 4 id. When the connection ends every RAPI session of the device ends with it.
/// </summary>
public sealed partial class DccmControlChannel : IAsyncDisposable
{
    private const int MaxHandshakeWords = 16;

    private readonly Stream _stream;
    private readonly ActiveSyncOptions _options;
    private readonly ILogger _logger;
    private readonly RapiConnectionRouter _router;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _sessionsGate = new();
    private readonly List<RapiClient> _sessions = [];
    private DccmDeviceInfo? _info;
    private volatile DccmState _state = DccmState.Handshake;

    // Written before _state becomes Closed, so whoever sees Closed can name the reason.
    private volatile string? _endReason;
    private int _running;

    internal DccmControlChannel(Stream stream, IPEndPoint? remote, RapiConnectionRouter router, ActiveSyncOptions options, ILogger? logger)
    {
        _stream = stream;
        RemoteEndPoint = remote;
        _router = router;
        _options = options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    public IPEndPoint? RemoteEndPoint { get; }

    public DccmState State => _state;

    /// <summary>The device's info message; set once the handshake is done.</summary>
    public DccmDeviceInfo Info => _info ?? throw new InvalidOperationException("the handshake has not finished");

    /// <summary>The RAPI version the device's sessions speak (<see cref="ActiveSyncOptions.RapiVersionOverride"/> wins).</summary>
    public RapiVersion RapiVersion => _options.RapiVersionOverride ?? Info.RapiVersion;

    /// <summary>The device's name made safe to show, with its address.</summary>
    public string Label => _info is null ? $"{RemoteEndPoint}" : $"{DeviceText.Printable(_info.Name)} ({RemoteEndPoint?.Address})";

    /// <summary>Completes with the reason once the control connection has ended.</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>Runs the handshake; the device's first word (0) has been read by the listener.</summary>
    internal async ValueTask<DccmDeviceInfo> HandshakeAsync(CancellationToken cancellationToken)
    {
        await WriteAsync(DccmMessages.HostHelloBytes(), "the handshake answer", cancellationToken).ConfigureAwait(false);
        for (var words = 0; words < MaxHandshakeWords; words++)
        {
            var word = await ReadU32Async(_options.HandshakeTimeout, "the next handshake word", cancellationToken).ConfigureAwait(false);
            switch (word)
            {
                case DccmMessages.DeviceHello:
                    await WriteAsync(DccmMessages.HostHelloBytes(), "the handshake answer", cancellationToken).ConfigureAwait(false);
                    break;
                case DccmMessages.DeviceQuery:
                    await WriteAsync(DccmMessages.DeviceQueryAnswerBytes(), "the answer to message 6", cancellationToken).ConfigureAwait(false);
                    break;
                case DccmMessages.DeviceInfo:
                    var length = await ReadU32Async(_options.HandshakeTimeout, "the info message's length", cancellationToken).ConfigureAwait(false);
                    if (length > DccmDeviceInfo.MaxLength)
                    {
                        throw ActiveSyncProtocolException.Malformed("info message", $"it says {length} bytes, more than the {DccmDeviceInfo.MaxLength} this host accepts");
                    }

                    var body = new byte[length];
                    await StreamIo.ReadExactlyAsync(_stream, body, _options.HandshakeTimeout, _options.Time, "the info message", cancellationToken).ConfigureAwait(false);
                    _info = DccmDeviceInfo.Parse(body);
                    _state = _info.Lock == DeviceLock.None ? DccmState.Connected : DccmState.Locked;
                    return _info;
                default:
                    throw new ActiveSyncProtocolException($"the device sent {word} during the DCCM handshake, where 0, 4 or 6 belong");
            }
        }

        throw new ActiveSyncProtocolException($"the device sent {MaxHandshakeWords} handshake words without its info message");
    }

    /// <summary>
    /// Windows Mobile 5: sends the password, XORed with the device's key. True when the device took
    /// it. A refused password is not retried here: a device may wipe itself after too many.
    /// </summary>
    public async ValueTask<bool> SendPasswordAsync(ReadOnlyMemory<char> password, CancellationToken cancellationToken = default)
    {
        Require(DccmState.Locked, "a password is sent to a locked device");
        if (Info.Lock != DeviceLock.Password)
        {
            throw new InvalidOperationException($"this device is unlocked on its screen, not with a password ({Info.Lock})");
        }

        var message = DccmMessages.PasswordBytes(password.Span, Info.PasswordKey);
        try
        {
            await WriteAsync(message, "the password", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Array.Clear(message);
        }

        var verdict = await StreamIo.ReadU16Async(_stream, _options.HandshakeTimeout, _options.Time, "the password verdict", cancellationToken).ConfigureAwait(false);
        if (verdict == 0)
        {
            ActiveSyncLog.PasswordRefused(_logger, Label);
            return false;
        }

        _state = DccmState.Connected;
        ActiveSyncLog.Unlocked(_logger, Label);
        return true;
    }

    /// <summary>
    /// Windows Mobile 6: asks the device to show its unlock screen and waits for the person holding
    /// it (<see cref="ActiveSyncOptions.UnlockOnDeviceTimeout"/>).
    /// </summary>
    public async ValueTask WaitForUnlockOnDeviceAsync(CancellationToken cancellationToken = default)
    {
        Require(DccmState.Locked, "an unlock is asked of a locked device");
        if (Info.Lock != DeviceLock.UnlockOnDevice)
        {
            throw new InvalidOperationException($"this device takes a password, not an unlock on its screen ({Info.Lock})");
        }

        await WriteAsync(DccmMessages.ShowUnlockScreenBytes(), "the unlock request", cancellationToken).ConfigureAwait(false);
        ActiveSyncLog.WaitingForUnlock(_logger, Label);
        uint verdict;
        try
        {
            verdict = await ReadU32Async(_options.UnlockOnDeviceTimeout, "the unlock verdict", cancellationToken).ConfigureAwait(false);
        }
        catch (LinkClosedException e) when (StreamIo.IsTimeout(e))
        {
            throw new SessionRefusedException(RefusalClass.Locked, $"{Label} was not unlocked on its screen within {StreamIo.Seconds(_options.UnlockOnDeviceTimeout)}; unlock it, then unplug and plug it in again");
        }

        if (verdict != 0)
        {
            throw new SessionRefusedException(RefusalClass.Locked, $"{Label} answered {verdict} to the unlock request instead of 0 (unlocked); unlock it on its screen and connect again");
        }

        await WriteAsync(DccmMessages.UnlockAcknowledgeBytes(), "the unlock acknowledgement", cancellationToken).ConfigureAwait(false);
        _state = DccmState.Connected;
        ActiveSyncLog.Unlocked(_logger, Label);
    }

    /// <summary>
    /// Watches the control connection of a connected device until it ends: reads what the device
    /// sends (keepalive answers) and sends keepalives. Returns the reason it ended.
    /// </summary>
    public async Task<string> RunAsync(CancellationToken cancellationToken = default)
    {
        Require(DccmState.Connected, "the control connection is watched once the device is connected");
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("RunAsync is already running");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        var keepalive = new KeepaliveState();
        var reading = ReadControlAsync(keepalive, stop.Token);
        var pinging = _options.KeepaliveInterval > TimeSpan.Zero ? KeepAliveAsync(keepalive, stop.Token) : Task.CompletedTask;
        await Task.WhenAny(reading, _ended.Task, Task.Delay(Timeout.InfiniteTimeSpan, _options.Time, stop.Token)).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            Close("the host stopped watching the device");
        }

        await stop.CancelAsync().ConfigureAwait(false);

        await Task.WhenAll(Quiet(reading), Quiet(pinging)).ConfigureAwait(false);
        return await _ended.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the device for a new RAPI connection (5, 4, id) and waits for it to arrive at the
    /// listener carrying the id. Several can be open at once.
    /// </summary>
    public async ValueTask<RapiClient> OpenRapiSessionAsync(CancellationToken cancellationToken = default)
    {
        Require(DccmState.Connected, "RAPI sessions are opened on a connected device");
        var (id, connection) = _router.Register(RemoteEndPoint?.Address);
        Stream stream;
        try
        {
            await WriteAsync(DccmMessages.RapiSessionRequestBytes(id), "the RAPI session request", cancellationToken).ConfigureAwait(false);
            stream = await connection.WaitAsync(_options.RapiConnectTimeout, _options.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new LinkClosedException($"{Label} did not open the RAPI connection the host asked for (request {id}) within {StreamIo.Seconds(_options.RapiConnectTimeout)}");
        }
        finally
        {
            _router.Forget(id);
        }

        var client = new RapiClient(stream, RapiVersion, _options, _logger, Label);
        lock (_sessionsGate)
        {
            if (_state == DccmState.Closed)
            {
                client.Abort($"the control connection of {Label} has ended");
            }

            _sessions.Add(client);
        }

        ActiveSyncLog.RapiSessionOpened(_logger, Label, id);
        return client;
    }

    /// <summary>Ends the control connection and every RAPI session of the device.</summary>
    public void Close(string reason)
    {
        List<RapiClient> sessions;
        lock (_sessionsGate)
        {
            if (_state == DccmState.Closed)
            {
                return;
            }

            _endReason = reason;
            _state = DccmState.Closed;
            sessions = [.. _sessions];
            _sessions.Clear();
        }

        // Sessions first: once the control socket closes the device drops its RAPI connections,
        // and the calls in flight must end with this reason, not with "connection reset".
        foreach (var session in sessions)
        {
            session.Abort($"the control connection of {Label} has ended: {reason}");
        }

        _ended.TrySetResult(reason);
        _closed.Cancel();
        _stream.Dispose();

        ActiveSyncLog.ControlEnded(_logger, Label, reason);
    }

    public ValueTask DisposeAsync()
    {
        Close("the host closed the connection");
        _closed.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Require(DccmState state, string what)
    {
        if (_state != state)
        {
            throw _state == DccmState.Closed
                ? new LinkClosedException($"the control connection of {Label} has ended: {_endReason ?? "closed"}")
                : new InvalidOperationException($"{what}; the device is {_state}");
        }
    }

    private async ValueTask<uint> ReadU32Async(TimeSpan timeout, string what, CancellationToken cancellationToken) =>
        await StreamIo.ReadU32Async(_stream, timeout, _options.Time, what, cancellationToken).ConfigureAwait(false);

    private async ValueTask WriteAsync(byte[] bytes, string what, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StreamIo.WriteAsync(_stream, bytes, _options.HandshakeTimeout, _options.Time, what, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static async Task Quiet(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped on purpose: the reason is in Ended.
        }
    }
}
