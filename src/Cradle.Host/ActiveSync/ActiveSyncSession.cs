using Cradle.ActiveSync;
using Cradle.ActiveSync.Dccm;
using Cradle.ActiveSync.Rapi;
using Cradle.Protocol;
using RefusalClass = Cradle.Protocol.Messages.RefusalClass;
using Microsoft.Extensions.Logging;

namespace Cradle.Host.ActiveSync;

/// <summary>
/// One ActiveSync device (Windows CE / Windows Mobile, nothing of ours installed) connected to the
/// host: its control handshake is done by the listener; this unlocks it, opens a RAPI session,
/// applies the partnership rules through the device's own registry (<c>Partners</c>), backs it
/// up into the store the way agent sessions do (the host walks, chunks and hashes), and then keeps
/// the device connected until it leaves (cable out), as ActiveSync did while a device was cradled.
/// </summary>
internal sealed partial class ActiveSyncSession(HostService host, HostOptions options, ILogger logger, DccmControlChannel channel)
{
    /// <summary>The link name snapshots and the registry record for these devices.</summary>
    public const string Link = "activesync";

    private LiveSession _live = null!;
    private DeviceName _device;
    private uint _number;

    public string Remote { get; } = channel.RemoteEndPoint?.ToString() ?? "?";

    /// <summary>
    /// Runs the device's session until it leaves or <paramref name="cancellationToken"/> (host
    /// stopping, interface down) ends it. Returns false when the host must not trigger the
    /// device again before the cable is pulled: it was refused in a way that retrying would
    /// only repeat (a wrong password retried may wipe a device).
    /// </summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        _live = host.Sessions.Begin(Remote, Link);
        var outcome = "the device left";
        var triggerAgain = true;
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<string>? watching = null;
        try
        {
            _device = NameOf(channel.Info);
            _live.SetDevice(_device.Value);
            host.ActiveSyncDevices.Add(this);
            await UnlockAsync(cancellationToken).ConfigureAwait(false);

            // Keepalives and the device leaving: a dead control connection aborts the RAPI calls.
            watching = channel.RunAsync(watch.Token);
            string done;
            await using (var rapi = await channel.OpenRapiSessionAsync(cancellationToken).ConfigureAwait(false))
            {
                // The listing (more sessions, folders, their entries: reads only) goes on beside the
                // partnership's registry calls; no file is read before the device is partnered.
                using var notWanted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var listing = ListDeviceAsync(rapi, notWanted.Token);
                try
                {
                    await PartnerAsync(rapi, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await notWanted.CancelAsync().ConfigureAwait(false);
                    await DropListingAsync(listing).ConfigureAwait(false);
                    throw;
                }

                done = await BackupAsync(listing, cancellationToken).ConfigureAwait(false);
            }

            _live.SetPhase("connected");
            ActiveSyncHostLog.Idle(logger, Remote, _device.Value, done);
            outcome = $"{WireText.Clean(await ServeUntilLeaveAsync(watching, cancellationToken, done).ConfigureAwait(false))}";
            HostLog.SessionEnded(logger, Remote, outcome);
        }
        catch (SessionRefusedException e)
        {
            var message = WireText.Clean(e.Message);
            outcome = $"refused ({e.Rule}): {message}";
            HostLog.Refused(logger, Remote, _device.Value ?? DeviceText.Printable(channel.Info.Name), e.Rule, message);
            triggerAgain = false;
            if (watching is not null)
            {
                // The device stays cradled and refused until it leaves; the outcome shows meanwhile.
                _live.End(outcome);
                await WaitForLeaveAsync(ServeUntilLeaveAsync(watching, cancellationToken), cancellationToken).ConfigureAwait(false);

                // Renamed from the host while it waited refused (P5's way out): trigger it again, it partners under the new name.
                triggerAgain = _renamed;
            }
        }
        catch (CradleException e)
        {
            // A dropped link, a malformed reply, a failed call, a full store: nothing of the
            // unfinished backup became a snapshot (the chunks that arrived are kept).
            outcome = WireText.Clean(e.Message);
            HostLog.SessionFailed(logger, Remote, outcome);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = host.IsStopping ? "the host is stopping" : "the activesync link went down (cable out)";
            HostLog.SessionEnded(logger, Remote, outcome);
        }
        finally
        {
            host.ActiveSyncDevices.Remove(this);
            EndJobs(outcome);
            _live.End(outcome);
            channel.Close(outcome);
            await watch.CancelAsync().ConfigureAwait(false);
            if (watching is not null)
            {
                await Quiet(watching).ConfigureAwait(false);
            }

            await channel.DisposeAsync().ConfigureAwait(false);
        }

        return triggerAgain;
    }

    /// <summary>The device name from the info message, refused unless P1 admits it.</summary>
    private static DeviceName NameOf(DccmDeviceInfo info) =>
        DeviceName.TryParse(info.Name, out var name, out var reason)
            ? name
            : throw new SessionRefusedException(RefusalClass.P1, $"the device calls itself \"{DeviceText.Printable(info.Name)}\", which is not a device name here ({reason}); give it a name of 1-15 letters, digits, '-' or '_' starting with a letter (on the device: Settings > System > About > Device ID), then connect again");

    private async Task UnlockAsync(CancellationToken cancellationToken)
    {
        switch (channel.Info.Lock)
        {
            case DeviceLock.None:
                return;
            case DeviceLock.Password:
                string? password;
                using (var registry = PartnershipRegistry.Open(host.Store.Database, options.Time))
                {
                    password = registry.ActiveSyncPassword(_device);
                }

                if (password is null)
                {
                    throw new SessionRefusedException(RefusalClass.Locked, $"{_device} is locked with a password and this host has none for it: set it with cradle host activesync-password {_device}, then unplug the device and plug it in again");
                }

                _live.SetPhase("unlocking");
                if (!await channel.SendPasswordAsync(password.AsMemory(), cancellationToken).ConfigureAwait(false))
                {
                    // Not sent again, here or by a new trigger: a device may wipe itself after too many.
                    throw new SessionRefusedException(RefusalClass.Locked, $"{_device} refused the password this host has for it (it is not tried again until the device is unplugged); set the right one with cradle host activesync-password {_device}");
                }

                return;
            case DeviceLock.UnlockOnDevice:
                _live.SetPhase("waiting-unlock");
                await channel.WaitForUnlockOnDeviceAsync(cancellationToken).ConfigureAwait(false);
                return;
            default:
                throw new ActiveSyncNotSupportedException($"{_device} is locked in a way this host does not speak ({channel.Info.Lock})");
        }
    }

    private static async Task WaitForLeaveAsync(Task<string> watching, CancellationToken cancellationToken)
    {
        try
        {
            await watching.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host stops or the interface went down: the session ends either way.
        }
    }

    private static async Task Quiet(Task<string> watching)
    {
        try
        {
            await watching.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped on purpose; the outcome is already known.
        }
    }
}
