using System.Threading.Channels;
using Cradle.ActiveSync;
using Cradle.ActiveSync.Rapi;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host.ActiveSync;

/// <summary>
/// What the operator asks of a connected device (a restore onto it), done on the device's live
/// session while it stays cradled: after its backup, or while it waits refused (P5/P7: a cold-booted
/// device, or one whose name is taken; P3: a guest). Jobs run one at a time, each on a RAPI session
/// of its own, never during the backup (a restore must not change files the backup is reading).
/// </summary>
internal sealed partial class ActiveSyncSession
{
    private readonly Channel<ActiveSyncJob> _jobs = Channel.CreateUnbounded<ActiveSyncJob>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The device name from its info message, once P1 admitted it.</summary>
    public DeviceName? Device => _device.Value is null ? null : _device;

    /// <summary>
    /// Where the device stands with this host: <c>partnered</c>, <c>not-partnered</c> (P5/P7: it
    /// does not hold the partnership the host has for its name), <c>guest</c> (P3), or null
    /// while it is still being unlocked and partnered (no job may start yet).
    /// </summary>
    public string? Standing { get; private set; }

    /// <summary>Queues a job (a restore, a rename); false when the device has left.</summary>
    public bool TryQueue(ActiveSyncJob job) => _jobs.Writer.TryWrite(job);

    /// <summary>
    /// Serves the operator's jobs until the device leaves (the control channel's watch ends), and
    /// returns how it left. With <paramref name="backedUp"/> (the outcome of this connection's
    /// backup) a device left in its cradle is also backed up again every
    /// <see cref="HostOptions.ActiveSyncBackupEvery"/> (as ActiveSync kept a cradled device in
    /// sync), on a new RAPI session each time, one thing at a time: a restore never runs during a
    /// backup. The result then starts with the last backup's outcome.
    /// </summary>
    private async Task<string> ServeUntilLeaveAsync(Task<string> watching, CancellationToken cancellationToken, string? backedUp = null)
    {
        var every = backedUp is null ? TimeSpan.Zero : options.ActiveSyncBackupEvery;
        string Left(string how) => backedUp is null ? how : $"{backedUp}; then: {how}";
        while (true)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var next = _jobs.Reader.WaitToReadAsync(wait.Token).AsTask();
            var due = every > TimeSpan.Zero ? Task.Delay(every, options.Time, wait.Token) : Task.Delay(Timeout.Infinite, wait.Token);
            var first = await Task.WhenAny(watching, next, due).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            if (first == watching)
            {
                return Left(await watching.ConfigureAwait(false));
            }

            if (first == due)
            {
                if (due.IsCanceled)
                {
                    // The host stops or the cable went: the watch says how.
                    return Left(await watching.WaitAsync(cancellationToken).ConfigureAwait(false));
                }

                ActiveSyncHostLog.BackupAgain(logger, Remote, _device.Value, every.TotalMinutes);
                await using (var rapi = await channel.OpenRapiSessionAsync(cancellationToken).ConfigureAwait(false))
                {
                    backedUp = await BackupAsync(rapi, cancellationToken).ConfigureAwait(false);
                }

                _live.SetPhase("connected");
                ActiveSyncHostLog.Idle(logger, Remote, _device.Value, backedUp);
                continue;
            }

            if (next.IsCanceled || !await next.ConfigureAwait(false))
            {
                return Left(await watching.WaitAsync(cancellationToken).ConfigureAwait(false));
            }

            while (_jobs.Reader.TryRead(out var job))
            {
                if (job is RenameJob rename)
                {
                    // P8: the device's partnerships ended with its old name; this connection
                    // carries that name, so it ends too and the device is triggered again.
                    if (await RunRenameAsync(rename, cancellationToken).ConfigureAwait(false) is { } renamed)
                    {
                        return Left(renamed);
                    }

                    continue;
                }

                await RunJobAsync((RestoreJob)job, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RunJobAsync(RestoreJob job, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, job.Cancellation);
        var live = host.Sessions.Begin(Remote, Link);
        live.SetDevice(_device.Value);
        var outcome = "restore failed";
        try
        {
            live.StartTransfer("restoring", job.Entries.LongCount(e => e.Kind == EntryKind.File), job.Entries.Where(e => e.Kind == EntryKind.File).Sum(e => e.Size));
            ActiveSyncHostLog.RestoreStarted(logger, Remote, _device.Value, job.Snapshot.Id, job.Path ?? "everything", Standing ?? "?");
            DeviceRestoreResult result;
            await using (var rapi = await channel.OpenRapiSessionAsync(both.Token).ConfigureAwait(false))
            {
                var progress = new InlineProgress<DeviceRestoreProgress>(p =>
                {
                    live.Progress(p.Files, p.Bytes);
                    job.Progress?.Report(p);
                });
                var restorer = new DeviceRestorer(rapi, job.Reader, options.ActiveSync.ReadBlockSize);
                result = await restorer.RestoreAsync(job.Snapshot, job.Path, Standing ?? "?", job.Entries, progress, both.Token).ConfigureAwait(false);
            }

            outcome = result.Describe();
            if (result.Complete)
            {
                ActiveSyncHostLog.Restored(logger, Remote, _device.Value, outcome);
            }
            else
            {
                ActiveSyncHostLog.RestoreIncomplete(logger, Remote, _device.Value, outcome);
            }

            job.Done.TrySetResult(result);
        }
        catch (OperationCanceledException e) when (job.Cancellation.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The operator gave up (Ctrl-C, the request went away): the session goes on.
            outcome = "restore cancelled by the operator";
            ActiveSyncHostLog.RestoreIncomplete(logger, Remote, _device.Value, outcome);
            job.Done.TrySetCanceled(e.CancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The interface went down (cable out) or the host stops: the session ends, and the
            // operator hears why rather than a bare cancellation.
            outcome = host.IsStopping ? "restore cut: the host is stopping" : "restore cut: the activesync link went down (cable out)";
            ActiveSyncHostLog.RestoreIncomplete(logger, Remote, _device.Value, outcome);
            job.Done.TrySetException(new ActiveSyncDeviceUnavailableException($"{outcome}; the file being written was left under its temporary name {DeviceRestoreResult.TempName}, never half-written under its own"));
            throw;
        }
        catch (CradleException e)
        {
            outcome = $"restore failed: {WireText.Clean(e.Message)}";
            ActiveSyncHostLog.RestoreIncomplete(logger, Remote, _device.Value, outcome);
            job.Done.TrySetException(e);
        }
        catch (Exception e)
        {
            job.Done.TrySetException(e);
            throw;
        }
        finally
        {
            live.End(outcome);
        }
    }

    /// <summary>Fails every job still waiting: the device left before its turn came.</summary>
    private void EndJobs(string outcome)
    {
        _jobs.Writer.TryComplete();
        while (_jobs.Reader.TryRead(out var job))
        {
            job.Fail(new ActiveSyncDeviceUnavailableException($"{_device} left before the {job.What} could start: {outcome}"));
        }
    }
}

/// <summary>Something the operator asked of a connected device, waiting for its session's turn.</summary>
internal abstract class ActiveSyncJob
{
    /// <summary>What the job is, for messages ("restore", "rename").</summary>
    public abstract string What { get; }

    /// <summary>Fails the job (its device left before its turn).</summary>
    public abstract void Fail(Exception reason);
}

/// <summary>A restore the operator asked for, waiting for its device's session; <see cref="Done"/> gives its result.</summary>
internal sealed class RestoreJob(SnapshotReader reader, SnapshotInfo snapshot, string? path, IReadOnlyList<TreeEntry> entries, IProgress<DeviceRestoreProgress>? progress, CancellationToken cancellation) : ActiveSyncJob
{
    public override string What => "restore";

    public override void Fail(Exception reason) => Done.TrySetException(reason);

    public SnapshotReader Reader { get; } = reader;

    public SnapshotInfo Snapshot { get; } = snapshot;

    public string? Path { get; } = path;

    public IReadOnlyList<TreeEntry> Entries { get; } = entries;

    public IProgress<DeviceRestoreProgress>? Progress { get; } = progress;

    public CancellationToken Cancellation { get; } = cancellation;

    public TaskCompletionSource<DeviceRestoreResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool, where lines could swap).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>The device named for an ActiveSync job is not connected in a state that allows it (absent, twice, a guest, still unlocking).</summary>
public sealed class ActiveSyncDeviceUnavailableException(string message) : CradleException(message, isTransient: false);
