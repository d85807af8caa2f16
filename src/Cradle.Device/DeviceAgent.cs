using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// <c>cradle device connect</c>: connects over a route (network, serial, USB), backs up, and
/// (unless once) stays connected and backs up again whenever the data folders change,
/// reconnecting after a dropped link or a resume from suspend, and — on USB — starting again by
/// itself when the cable comes back, until told to disconnect through the control socket or
/// cancelled. Refusals (partnership rules) end it.
/// </summary>
public sealed class DeviceAgent(DeviceState state, HostRoute route, DeviceOptions options, ISessionObserver observer)
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disconnect = new();
    private bool _linkWentDown; // set by the link watcher before it stops a session: accessed with Volatile
    private bool _committed; // a backup of the current session was committed: accessed with Volatile
    private DeviceStatus _status = new() { Device = state.LoadIdentity().Name };

    /// <summary>How often the data folders are checked for changes while connected.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait before the first reconnect after a failed session; each failure in a row doubles it.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts: the agent never gives up, it only waits longer.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(60);

    public DeviceStatus Status
    {
        get { lock (_lock) { return _status; } }
    }

    /// <summary>Asks the agent to say goodbye to the host and stop.</summary>
    public void Disconnect() => _disconnect.Cancel();

    /// <summary>Connects and backs up once; returns the committed backup.</summary>
    public async Task<BackupResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var session = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                var result = await BackupAsync(session, cancellationToken).ConfigureAwait(false);
                await session.SayGoodbyeAsync("backup done").ConfigureAwait(false);
                DeviceEngineLog.Disconnected(options.Logger, session.HostName, "backup done");
                return result;
            }
        }
        catch (SessionRefusedException e) when (Logged(e))
        {
            throw; // never reached: the filter only logs
        }
    }

    /// <summary>
    /// Restores a snapshot onto the device: under the partnership when the device holds one
    /// with this host, else as a guest (never making a partnership: after a cold boot the
    /// files come back first).
    /// </summary>
    public async Task<RestoreOutcome> RestoreAsync(RestoreChoice choice, CancellationToken cancellationToken)
    {
        try
        {
            var session = await ConnectAsync(cancellationToken, SessionMode.PartnerOrGuest).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                var outcome = await session.RestoreAsync(choice, cancellationToken).ConfigureAwait(false);
                await session.SayGoodbyeAsync("restore done").ConfigureAwait(false);
                DeviceEngineLog.Disconnected(options.Logger, session.HostName, "restore done");
                return outcome;
            }
        }
        catch (SessionRefusedException e) when (Logged(e))
        {
            throw; // never reached: the filter only logs
        }
    }

    /// <summary>Logs a refusal from an exception filter (returns false: the exception goes on unhandled).</summary>
    private bool Logged(SessionRefusedException e)
    {
        DeviceEngineLog.Refused(options.Logger, e.Rule, e.Message);
        return false;
    }

    /// <summary>A guest session (P3): the host's name and that it serves this device as a guest; nothing else happens.</summary>
    public async Task<string> VisitAsGuestAsync(CancellationToken cancellationToken)
    {
        var session = await ConnectAsync(cancellationToken, SessionMode.Guest).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            await session.SayGoodbyeAsync("guest visit done").ConfigureAwait(false);
            return session.HostName;
        }
    }

    /// <summary>
    /// Stays connected until disconnected or cancelled. Returns normally after a clean
    /// disconnect. A failed session of any kind — a link that dropped or timed out, a host that
    /// stopped answering in the handshake, a protocol error — is tried again after a wait that
    /// doubles with each failure in a row (a session that connects but commits no backup is one),
    /// up to <see cref="MaxReconnectDelay"/>, forever; the
    /// status says so, and so is a transient refusal (the host is busy, its disk is full: its
    /// class says so, <see cref="CradleException.IsTransient"/>). Only a lasting refusal (a
    /// partnership rule, a failed proof, another version) ends the agent: trying again would not help.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disconnect.Token);
        await using var control = await ControlSocket.ListenAsync(state, () => Status, Disconnect, cancellationToken).ConfigureAwait(false);
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            Exception failure;
            try
            {
                // Failures in a row are counted across sessions that connect but commit nothing
                // (a host that refuses every backup as busy): each waits longer than the last.
                Volatile.Write(ref _committed, false);
                var session = await ConnectAsync(stop.Token).ConfigureAwait(false);
                await using (session.ConfigureAwait(false))
                {
                    using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    var linkLost = WatchLinkAsync(sessionStop);
                    try
                    {
                        await StayConnectedAsync(session, sessionStop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        await session.SayGoodbyeAsync("disconnect").ConfigureAwait(false);
                        DeviceEngineLog.Disconnected(options.Logger, session.HostName, "disconnect");
                        return;
                    }
                    catch (OperationCanceledException) when (Volatile.Read(ref _linkWentDown))
                    {
                        failures = 0;
                        DeviceEngineLog.LinkWentDown(options.Logger, route.Kind);
                        Update(s => s with { Connected = false, Phase = "cable out", Progress = null, LastError = null, NextAttempt = null, Failures = 0 });
                        observer.Notice($"the {route.Kind} link went down (cable out): session ended; waiting for it to come back");
                        continue;
                    }
                    finally
                    {
                        await sessionStop.CancelAsync().ConfigureAwait(false);
                        await linkLost.ConfigureAwait(false);
                    }
                }

                continue;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SessionRefusedException e) when (!e.IsTransient)
            {
                DeviceEngineLog.Refused(options.Logger, e.Rule, e.Message);
                throw;
            }
            catch (Exception e)
            {
                failure = e;
            }

            failures = Volatile.Read(ref _committed) ? 1 : failures + 1;
            var delay = RetryDelay(failures);
            var message = failure switch
            {
                CradleException => failure.Message,
                OperationCanceledException => "the session was cancelled",
                _ => $"{failure.GetType().Name}: {failure.Message}",
            };
            var next = options.Time.GetUtcNow() + delay;
            Update(s => s with { Connected = false, Phase = "waiting to reconnect", Progress = null, LastError = message, NextAttempt = next, Failures = failures });
            DeviceEngineLog.Retrying(options.Logger, message, delay.TotalSeconds, failures);
            observer.Warning($"{message}; trying again in {delay.TotalSeconds:0} s (failure {failures} in a row; the agent keeps trying)");
            try
            {
                await Task.Delay(delay, options.Time, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The wait after <paramref name="failures"/> failed sessions in a row: <see cref="ReconnectDelay"/>, doubled each time, at most <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan RetryDelay(int failures)
    {
        var delay = ReconnectDelay;
        for (var i = 1; i < failures && delay < MaxReconnectDelay; i++)
        {
            delay *= 2;
        }

        return delay < MaxReconnectDelay ? delay : MaxReconnectDelay;
    }

    /// <summary>True when the route's link went away physically (and the session was stopped for it).</summary>
    private async Task<bool> WatchLinkAsync(CancellationTokenSource session)
    {
        Volatile.Write(ref _linkWentDown, false);
        try
        {
            await route.WhenLostAsync(session.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        // Set before the session is stopped: its cancellation is caught as "cable out" at once,
        // possibly before this method returns.
        Volatile.Write(ref _linkWentDown, true);
        await session.CancelAsync().ConfigureAwait(false);
        return true;
    }

    private async Task StayConnectedAsync(DeviceSession session, CancellationToken cancellationToken)
    {
        var identity = options.Select(state.LoadIdentity());
        while (true)
        {
            // Taken before the backup scans: a file written while the backup runs (after its
            // scan) differs from it and makes the next backup. Taken after, it was never backed
            // up until some other file changed.
            var seen = Fingerprint(identity);
            await BackupAsync(session, cancellationToken).ConfigureAwait(false);

            // While idle the session keeps listening: it answers the host's pings and notices a
            // host that went silent (stopped, gone with its link) within the keepalive timeout,
            // not at the next backup. Cancelling the listening leaves its receive running for
            // the backup that follows.
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var listening = session.ListenWhileIdleAsync(idle.Token);
            try
            {
                do
                {
                    var poll = Task.Delay(PollInterval, options.Time, idle.Token);
                    if (await Task.WhenAny(listening, poll).ConfigureAwait(false) == listening)
                    {
                        await listening.ConfigureAwait(false);
                    }

                    await poll.ConfigureAwait(false);
                }
                while (Fingerprint(identity) == seen);
            }
            finally
            {
                await idle.CancelAsync().ConfigureAwait(false);
                await ((Task)listening).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<DeviceSession> ConnectAsync(CancellationToken cancellationToken, SessionMode mode = SessionMode.Partner)
    {
        Update(s => s with { Phase = "connecting", Address = route.ToString() });
        DeviceEngineLog.Connecting(options.Logger, route.ToString()!);
        var session = await DeviceSession.ConnectAsync(state, route, options, new ProgressTracker(this, observer), cancellationToken, mode).ConfigureAwait(false);

        DeviceEngineLog.Connected(options.Logger, session.HostName, session.Link);
        Update(s => s with { Connected = true, Host = session.HostName, Link = session.Link, Phase = "connected", LastError = null, NextAttempt = null, Failures = 0 });
        return session;
    }

    private async Task<BackupResult> BackupAsync(DeviceSession session, CancellationToken cancellationToken)
    {
        var result = await session.BackupAsync(cancellationToken).ConfigureAwait(false);
        // The backup's buffers (two batches of 2 MiB, the chunker's, the compressor's) are garbage
        // now, but the GC runs only when something allocates, and an agent sitting on the link
        // allocates next to nothing for hours: they would stay resident. One collection that
        // gives the freed memory back to the system, once per backup (docs/BENCHMARKS.md).
        var before = GC.GetTotalMemory(forceFullCollection: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        DeviceEngineLog.GaveBackMemory(options.Logger, before, GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().TotalCommittedBytes);
        Volatile.Write(ref _committed, true);
        Update(s => s with { Phase = "idle", Progress = null, LastBackup = LastBackupStatus.From(state.LoadPartnerships().Slots) });
        return result;
    }

    private void Update(Func<DeviceStatus, DeviceStatus> change)
    {
        lock (_lock)
        {
            _status = change(_status);
        }
    }

    /// <summary>A cheap summary of the data folders (paths, sizes, times) that changes when a file does.</summary>
    private static int Fingerprint(DeviceIdentity identity)
    {
        var hash = new HashCode();
        foreach (var e in Scanner.Walk(identity.Folders, identity.Exclude ?? [], new IgnoredReport(), CancellationToken.None))
        {
            hash.Add(e.Path);
            hash.Add(e.Size);
            hash.Add(e.MtimeUnixNs);
            hash.Add(e.Inode);
            hash.Add(e.Problem);
        }

        return hash.ToHashCode();
    }

    /// <summary>A fingerprint only looks: the backup itself reports what it skips.</summary>
    private sealed class IgnoredReport : IScanReport
    {
        public void Skipped(string message)
        {
            // Reported by the backup that follows.
        }

        public void Unnamed(string message)
        {
            // Reported by the backup that follows.
        }
    }

    /// <summary>Passes progress to the observer and into the agent's status.</summary>
    private sealed class ProgressTracker(DeviceAgent agent, ISessionObserver inner) : ISessionObserver
    {
        public void ApprovalCode(string hostName, string code, TimeSpan timeout) => inner.ApprovalCode(hostName, code, timeout);

        public Task<bool?> ConfirmNewHostAsync(NewHost host, CancellationToken cancellationToken) => inner.ConfirmNewHostAsync(host, cancellationToken);

        public void PartnershipCreated(PartnershipSlot slot) => inner.PartnershipCreated(slot);

        public void Warning(string message) => inner.Warning(message);

        public void Notice(string message) => inner.Notice(message);

        public void Progress(BackupProgress progress)
        {
            agent.Update(s => s with { Phase = progress.Phase, Progress = progress });
            inner.Progress(progress);
        }
    }
}
