using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Cradle.ActiveSync.Wire;
using Cradle.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cradle.ActiveSync.Dccm;

/// <summary>
/// The host's DCCM endpoint on one interface: listens on TCP 990 (the device is the client, over
/// RNDIS), sends the one-byte UDP trigger (0x7F) to the device's port 5679, and sorts what connects:
/// a first word of 0 is a new control connection (handshake, then <see cref="AcceptDeviceAsync"/>),
/// any other word is the id of a RAPI session a control channel asked for.
/// </summary>
public sealed class ActiveSyncListener : IAsyncDisposable
{
    /// <summary>The port the device connects to. Privileged: root or CAP_NET_BIND_SERVICE.</summary>
    public const int DccmPort = 990;

    /// <summary>The device's UDP port the trigger goes to.</summary>
    public const int TriggerPort = 5679;

    /// <summary>Connections that may wait for their first word at once; more are closed (a flood cannot pile up sockets).</summary>
    public const int MaxUnsortedConnections = 16;

    private readonly Socket _listener;
    private readonly Socket _trigger;
    private readonly ActiveSyncOptions _options;
    private readonly ILogger _logger;
    private readonly RapiConnectionRouter _router = new();
    private readonly Channel<DccmControlChannel> _devices = Channel.CreateBounded<DccmControlChannel>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, byte> _sorting = new();
    private readonly SemaphoreSlim _unsorted = new(MaxUnsortedConnections, MaxUnsortedConnections);
    private readonly Task _acceptLoop;

    private ActiveSyncListener(Socket listener, Socket trigger, ActiveSyncOptions options, ILogger logger)
    {
        _listener = listener;
        _trigger = trigger;
        _options = options;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Binds <paramref name="endpoint"/> (normally the host's address on the device's interface,
    /// port 990) and starts accepting. The sockets are made on the calling thread, so a caller in
    /// another network namespace gets them there.
    /// </summary>
    public static ActiveSyncListener Start(IPEndPoint endpoint, ActiveSyncOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        options = (options ?? new ActiveSyncOptions()).Validate();
        logger ??= NullLogger.Instance;
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var trigger = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            listener.Bind(endpoint);
            listener.Listen(16);
            trigger.Bind(new IPEndPoint(endpoint.Address, 0));
        }
        catch (SocketException e)
        {
            listener.Dispose();
            trigger.Dispose();
            throw BindFailure(endpoint, e);
        }

        ActiveSyncLog.Listening(logger, listener.LocalEndPoint!.ToString()!);
        return new ActiveSyncListener(listener, trigger, options, logger);
    }

    /// <summary>The next device whose control handshake is done (it may still be locked).</summary>
    public ValueTask<DccmControlChannel> AcceptDeviceAsync(CancellationToken cancellationToken = default) =>
        _devices.Reader.ReadAsync(cancellationToken);

    /// <summary>Sends the trigger byte 0x7F to the device's UDP port, which makes it connect to port 990.</summary>
    public async ValueTask SendTriggerAsync(IPAddress device, int port = TriggerPort, CancellationToken cancellationToken = default) =>
        await _trigger.SendToAsync(new byte[] { 0x7F }, SocketFlags.None, new IPEndPoint(device, port), cancellationToken).ConfigureAwait(false);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                ActiveSyncLog.AcceptFailed(_logger, e.Message);
                continue;
            }

            if (!_unsorted.Wait(0))
            {
                ActiveSyncLog.TooManyPending(_logger, socket.RemoteEndPoint?.ToString() ?? "?");
                socket.Dispose();
                continue;
            }

            socket.NoDelay = true;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            var sorting = SortAsync(socket);
            _sorting[sorting] = 0;
            _ = sorting.ContinueWith(t => _sorting.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task SortAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        var stream = new NetworkStream(socket, ownsSocket: true);
        var handedOver = false;
        try
        {
            uint first;
            try
            {
                first = await StreamIo.ReadU32Async(stream, _options.HandshakeTimeout, _options.Time, "the first word of a connection", _stop.Token).ConfigureAwait(false);
            }
            finally
            {
                _unsorted.Release();
            }

            if (first != DccmMessages.DeviceHello)
            {
                handedOver = _router.TryDeliver(first, remote?.Address, stream);
                if (!handedOver)
                {
                    ActiveSyncLog.UnexpectedConnection(_logger, remote?.ToString() ?? "?", $"{first} (0x{first:X8})");
                }

                return;
            }

            var channel = new DccmControlChannel(stream, remote, _router, _options, _logger);
            handedOver = true;
            try
            {
                var info = await channel.HandshakeAsync(_stop.Token).ConfigureAwait(false);
                ActiveSyncLog.DeviceIdentified(_logger, remote?.ToString() ?? "?", DeviceText.Printable(info.Name), DeviceText.Printable(info.Model),
                    info.OsMajor, info.OsMinor, channel.RapiVersion.ToString(), info.Lock.ToString(), $"0x{info.CurrentPartnerId:X8}");
                await _devices.Writer.WriteAsync(channel, _stop.Token).ConfigureAwait(false);
            }
            catch (CradleException e)
            {
                ActiveSyncLog.HandshakeFailed(_logger, remote?.ToString() ?? "?", e.Message);
                channel.Close($"the handshake failed: {e.Message}");
            }
        }
        catch (LinkClosedException e)
        {
            ActiveSyncLog.HandshakeFailed(_logger, remote?.ToString() ?? "?", e.Message);
        }
        catch (OperationCanceledException)
        {
            // The listener is stopping.
        }
        finally
        {
            if (!handedOver)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Why <paramref name="endpoint"/> could not be bound, with the way out (privilege, a port in use, an address this machine lacks).</summary>
    public static CradleException BindFailure(IPEndPoint endpoint, SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AccessDenied => new CradleException(
            $"cannot listen on {endpoint} for ActiveSync devices: port {endpoint.Port} is privileged. Run the host with CAP_NET_BIND_SERVICE " +
            "(sudo setcap cap_net_bind_service=+ep PATH-TO-cradle, or AmbientCapabilities=CAP_NET_BIND_SERVICE in its systemd unit) or as root", isTransient: false, e),
        SocketError.AddressAlreadyInUse => new CradleException(
            $"cannot listen on {endpoint} for ActiveSync devices: the port is in use (is SynCE's dccm, or another Cradle host, running?)", isTransient: true, e),
        SocketError.AddressNotAvailable => new CradleException(
            $"cannot listen on {endpoint} for ActiveSync devices: this machine has no such address (is the device's interface up?)", isTransient: true, e),
        _ => new CradleException($"cannot listen on {endpoint} for ActiveSync devices: {e.Message}", isTransient: true, e),
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        _trigger.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_sorting.Keys).ConfigureAwait(false);
        _devices.Writer.TryComplete();
        while (_devices.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
        _unsorted.Dispose();
    }
}
