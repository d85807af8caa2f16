using System.Net.Sockets;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Cradle.Content;
using Cradle.Links;
using Cradle.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace Cradle.Host;

/// <summary>
/// The host service: accepts sessions on the network link, watches serial ports for devices
/// offering a session and USB interfaces for cables coming up; one task per session, until
/// stopped. Sessions share the store folder and database; each has its own connections.
/// </summary>
public sealed partial class HostService : IAsyncDisposable
{
    /// <summary>How long the accept loop waits after the system refused it a connection (out of file descriptors).</summary>
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the accept loop says that it is turning connections away (a flood would fill the log).</summary>
    private static readonly TimeSpan ShedReportInterval = TimeSpan.FromSeconds(10);

    private readonly HostOptions _options;
    private readonly ILogger _logger;
    private readonly List<Task> _sessions = [];
    private readonly List<Task> _watchers = [];
    private readonly List<SerialPortSetting> _serialPorts;
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private IDisposable? _databaseKeptOpen;
    private int _unauthenticated; // sessions not (yet) authenticated: Interlocked
    private int _maxUnauthenticated;

    private HostService(HostOptions options, ChunkStore store, X509Certificate2 certificate, byte[] hostId, string name, ILogger logger)
    {
        _options = options;
        Store = store;
        Certificate = certificate;
        HostId = hostId;
        Name = name;
        _logger = logger;
        Sessions = new LiveSessions(options.Time);
        _serialPorts = [.. options.SerialPorts];
        Owed = new OwedBudget(options.Limits.MaxOwedPerHost);
        Approvals = new ApprovalBoard(store.Database, options, logger);
        var fds = Descriptors.OpenFileLimit();
        _maxUnauthenticated = (int)Math.Max(8, Math.Min(options.Limits.MaxUnauthenticated, fds is { } l ? (l - Descriptors.Reserve) / 2 : long.MaxValue));
        Queries = new QueryRate(options.Limits.HostQueryIdsPerSecond, options.Limits.HostQueryIdsBurst, options.Time);
    }

    internal ChunkStore Store { get; }

    /// <summary>The host's folder: database, packs, certificate.</summary>
    public string DataFolder => Store.Folder;

    /// <summary>The store as the operator's commands see it (the CLI's demo restores through it); the service owns its catalog.</summary>
    public HostRepository OpenRepository() => new(Store, ownedDatabase: null);

    public X509Certificate2 Certificate { get; }

    public byte[] HostId { get; }

    public string Name { get; }

    /// <summary>How this host runs.</summary>
    public HostOptions Options => _options;

    /// <summary>The sessions running now and the last few that ended (the dashboard's live view).</summary>
    public LiveSessions Sessions { get; }

    /// <summary>
    /// The zstd contexts every session checks received chunks with: as many idle ones as threads
    /// can run at once (a session holds one only while it decompresses a chunk).
    /// </summary>
    internal ChunkCodecPool Codecs { get; } = new(Math.Max(2, Environment.ProcessorCount));

    /// <summary>The partnerships waiting for the operator.</summary>
    public ApprovalBoard Approvals { get; }

    /// <summary>Sessions not authenticated (yet): in their handshake, waiting for approval, or guests.</summary>
    public int Unauthenticated => Volatile.Read(ref _unauthenticated);

    /// <summary>A session starts: it counts as unauthenticated until <see cref="Authenticated"/>.</summary>
    internal void SessionStarted() => Interlocked.Increment(ref _unauthenticated);

    /// <summary>A session proved its partnership (or made one), or ended without doing so.</summary>
    internal void Authenticated() => Interlocked.Decrement(ref _unauthenticated);

    /// <summary>Chunks all sessions are owed now (<see cref="SessionLimits.MaxOwedPerHost"/>).</summary>
    internal OwedBudget Owed { get; }

    /// <summary>The host-wide rate of chunk ids looked up (<see cref="SessionLimits.HostQueryIdsPerSecond"/>).</summary>
    internal QueryRate Queries { get; }

    /// <summary>The address sessions are accepted on (the real port when 0 was asked for).</summary>
    public LinkAddress? BoundAddress { get; private set; }

    /// <summary>True once the service was told to stop.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Sessions running now.</summary>
    public int ActiveSessions { get { lock (_sessions) { return _sessions.Count(t => !t.IsCompleted); } } }

    /// <summary>Opens the host's folder (creating it when new): store, registry, identity, certificate.</summary>
    public static async Task<HostService> OpenAsync(HostOptions options, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default)
    {
        var store = await ChunkStore.OpenAsync(options.DataFolder, options.Time, options.Packs, options.Catalog, cancellationToken).ConfigureAwait(false);
        byte[] id;
        string name;
        X509Certificate2 certificate;
        using (var registry = PartnershipRegistry.Open(store.Database, options.Time))
        {
            (id, name) = registry.GetOrCreateIdentity(options.Name);
            certificate = HostCertificate.LoadOrCreate(registry, store.Folder, name);
        }

        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("cradle.host");
        return new HostService(options, store, certificate, id, name, logger);
    }

    /// <summary>Binds the listener and starts accepting sessions.</summary>
    public void Start()
    {
        CheckActiveSyncPort();
        _databaseKeptOpen ??= Store.Database.KeepOpen();
        Approvals.Start();
        var address = IPAddress.Parse(_options.Listen.Host);
        _listener = new TcpListener(address, _options.Listen.Port);
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.Equals(IPAddress.IPv6Any))
        {
            _listener.Server.DualMode = true;
        }

        try
        {
            _listener.Start(backlog: 128);
        }
        catch (SocketException e)
        {
            var hint = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? " (another program, or another Cradle host); choose another with --listen ADDR:PORT" : "";
            throw new Protocol.CradleException($"cannot listen on {_options.Listen}: {e.Message}{hint}", isTransient: false, e);
        }

        var bound = (IPEndPoint)_listener.LocalEndpoint;
        BoundAddress = new LinkAddress(bound.Address.ToString(), bound.Port);
        HostLog.Listening(_logger, BoundAddress.ToString());
        if (Store.RepairedModes > 0)
        {
            HostLog.ModesRepaired(_logger, Store.Folder, Store.RepairedModes);
        }

        lock (_serialPorts)
        {
            _watchers.Add(AcceptLoopAsync(_listener, "network", _stopping.Token));
            foreach (var port in _serialPorts)
            {
                _watchers.Add(WatchSerialPortAsync(port, _stopping.Token));
            }

            foreach (var usb in _options.UsbInterfaces)
            {
                _watchers.Add(WatchUsbInterfaceAsync(usb, _stopping.Token));
            }

            foreach (var activeSync in _options.ActiveSyncInterfaces)
            {
                _watchers.Add(activeSync == HostOptions.ActiveSyncAuto
                    ? WatchActiveSyncAutoAsync(_stopping.Token)
                    : WatchActiveSyncInterfaceAsync(activeSync, _stopping.Token));
            }
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener, string link, CancellationToken cancellationToken)
    {
        var refused = false;
        long shed = 0;
        long? shedReported = null; // when the last refusals were reported
        long unauthenticatedShed = 0;
        long? unauthenticatedReported = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
                refused = false;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break; // the listener was stopped (a USB interface went down)
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                continue;
            }
            catch (SocketException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException e)
            {
                // Out of file descriptors (a flood of connections) or buffers: the connection waits
                // in the backlog. Wait for sessions to end and free some, and keep accepting; a
                // listener that gave up here would leave the host up but deaf until restarted.
                if (!refused)
                {
                    HostLog.AcceptFailed(_logger, link, e.Message);
                    refused = true;
                }

                try
                {
                    await Task.Delay(AcceptRetryDelay, _options.Time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            var remote = socket.RemoteEndPoint?.ToString() ?? "?";
            if (Volatile.Read(ref _unauthenticated) >= _maxUnauthenticated)
            {
                // Strangers hold at most half the descriptors: the rest stay for the store and
                // the partnered devices' sessions, whatever a flood of connections does.
                socket.Dispose();
                unauthenticatedShed++;
                if (unauthenticatedReported is not { } when || _options.Time.GetElapsedTime(when) >= ShedReportInterval)
                {
                    HostLog.UnauthenticatedShed(_logger, link, unauthenticatedShed, remote, Volatile.Read(ref _unauthenticated), _maxUnauthenticated);
                    unauthenticatedReported = _options.Time.GetTimestamp();
                    unauthenticatedShed = 0;
                }

                continue;
            }

            if (!Descriptors.HaveRoom(out var open, out var limit))
            {
                // Closed before a byte is read: the device sees the connection end and tries again later.
                socket.Dispose();
                shed++;
                if (shedReported is not { } reported || _options.Time.GetElapsedTime(reported) >= ShedReportInterval)
                {
                    HostLog.ConnectionsShed(_logger, link, shed, remote, open, limit, Descriptors.Reserve);
                    shedReported = _options.Time.GetTimestamp();
                    shed = 0;
                }

                continue;
            }

            TcpLink.Configure(socket);
            var session = new HostSession(this, _options, _logger, remote, link);
            Track(RunSessionAsync(session, new NetworkStream(socket, ownsSocket: true), cancellationToken));
        }
    }

    private void Track(Task session)
    {
        lock (_sessions)
        {
            _sessions.RemoveAll(t => t.IsCompleted);
            _sessions.Add(session);
        }
    }

    private async Task RunSessionAsync(HostSession session, Stream link, CancellationToken cancellationToken)
    {
        // Leave the accept loop at once: the handshake runs on the session's own task.
        await Task.Yield();
        try
        {
            await session.RunAsync(link, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A session's failure must never take down the host or the other sessions.
            HostLog.SessionCrashed(_logger, session.Remote, e);
        }
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        Task[] watchers;
        lock (_serialPorts)
        {
            watchers = [.. _watchers];
        }

        await Task.WhenAll(watchers).ConfigureAwait(false);

        Task[] running;
        lock (_sessions)
        {
            running = [.. _sessions];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await Approvals.DisposeAsync().ConfigureAwait(false);
        _databaseKeptOpen?.Dispose();
        Certificate.Dispose();
        Codecs.Dispose();
        _stopping.Dispose();
    }
}
