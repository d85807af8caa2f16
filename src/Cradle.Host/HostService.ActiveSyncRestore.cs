using Cradle.Host.ActiveSync;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// Restore onto a cradled ActiveSync device: the operator names the device, the host finds it
/// among the devices connected now (by the name in its info message) and writes the snapshot on
/// its live session. The operator naming it is the consent, so a device that does not hold the
/// host's partnership for that name — after a cold boot (P6/P7) — is restored without
/// re-partnering first, as ActiveSync's guest restore was.
/// </summary>
public sealed partial class HostService
{
    internal ConnectedActiveSyncDevices ActiveSyncDevices { get; } = new();

    /// <summary>
    /// Restores <paramref name="snapshotId"/> (default: the device's newest) of
    /// <paramref name="device"/>, or the part at <paramref name="path"/>, onto the connected
    /// device of that name. Refused (<see cref="ActiveSyncDeviceUnavailableException"/>) when no
    /// such device is connected, when two are (which one would be a guess), while it is still
    /// being unlocked, or when it is a guest (P3: it holds two other hosts' partnerships) unless
    /// <paramref name="allowGuest"/>.
    /// </summary>
    public async Task<DeviceRestoreResult> RestoreToActiveSyncDeviceAsync(DeviceName device, long? snapshotId, string? path, bool allowGuest,
        IProgress<DeviceRestoreProgress>? progress, CancellationToken cancellationToken)
    {
        if (path is not null && SnapshotPath.Check(path) is { } bad)
        {
            throw new ArgumentException($"--path {path}: {bad} (give a path inside the snapshot, e.g. My Documents/scans)");
        }

        var session = ActiveSyncDevices.Find(device, allowGuest);
        using var lease = Store.Lease("restore");
        using var reader = Store.OpenReader();
        var snapshot = FindSnapshot(reader.Catalog, device, snapshotId);
        var entries = await DeviceRestorer.SelectAsync(reader, snapshot, path, cancellationToken).ConfigureAwait(false);
        var job = new RestoreJob(reader, snapshot, path, entries, progress, cancellationToken);
        if (!session.TryQueue(job))
        {
            throw new ActiveSyncDeviceUnavailableException($"{device} left before the restore could start");
        }

        return await job.Done.Task.ConfigureAwait(false);
    }

    /// <summary>The snapshot <paramref name="id"/> of <paramref name="device"/>, or its newest.</summary>
    internal static SnapshotInfo FindSnapshot(Catalog catalog, DeviceName device, long? id)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (id is { } wanted)
        {
            var found = catalog.GetSnapshot(wanted) ?? throw new ArgumentException($"there is no snapshot {wanted}");
            return string.Equals(found.Device, device.Value, StringComparison.OrdinalIgnoreCase)
                ? found
                : throw new ArgumentException($"snapshot {wanted} belongs to {found.Device}, not {device}");
        }

        var list = catalog.ListSnapshots(device.Key);
        return list.Count > 0 ? list[^1] : throw new ArgumentException($"this host keeps no snapshot of {device} yet");
    }
}

/// <summary>The ActiveSync devices connected to the host now, by the name their info message gives.</summary>
internal sealed class ConnectedActiveSyncDevices
{
    private readonly List<ActiveSyncSession> _sessions = [];

    /// <summary>
    /// New names of renames under way or done whose device has not partnered under them yet (by
    /// name key, under the sessions' lock): P5 holds at partnering, but a second rename to the
    /// same name would put it on two devices, one of which the host then refuses.
    /// </summary>
    private readonly HashSet<string> _renamingTo = new(StringComparer.Ordinal);

    /// <summary>Reserves <paramref name="newName"/> for one rename; false when another rename holds it.</summary>
    public bool TryReserveName(DeviceName newName)
    {
        lock (_sessions)
        {
            return _renamingTo.Add(newName.Key);
        }
    }

    /// <summary>Frees a reserved name: its rename failed before the name was written, or its device partnered under it (the host's record holds it now).</summary>
    public void ReleaseName(DeviceName name)
    {
        lock (_sessions)
        {
            _renamingTo.Remove(name.Key);
        }
    }

    public void Add(ActiveSyncSession session)
    {
        lock (_sessions)
        {
            _sessions.Add(session);
        }
    }

    public void Remove(ActiveSyncSession session)
    {
        lock (_sessions)
        {
            _sessions.Remove(session);
        }
    }

    /// <summary>The devices connected now (for the dashboard's list).</summary>
    public List<ActiveSyncSession> All()
    {
        lock (_sessions)
        {
            return [.. _sessions];
        }
    }

    /// <summary>
    /// The one connected device named <paramref name="device"/> that may take a job now; with
    /// <paramref name="connection"/> (its address and port, as the console and the dashboard show
    /// it) the one connected from there.
    /// </summary>
    public ActiveSyncSession Find(DeviceName device, bool allowGuest, string? connection = null)
    {
        List<ActiveSyncSession> named;
        lock (_sessions)
        {
            named = [.. _sessions.Where(s => s.Device is { } d && d.Key == device.Key && (connection is null || s.Remote == connection))];
        }

        if (named.Count == 0)
        {
            var from = connection is null ? "" : $" from {connection}";
            throw new ActiveSyncDeviceUnavailableException($"no ActiveSync device named {device} is connected{from} to this host now: cradle it (the host must be running with --activesync on its interface), wait until 'cradle host run' shows it, then run this again");
        }

        if (named.Count > 1)
        {
            throw new ActiveSyncDeviceUnavailableException($"{named.Count} devices named {device} are connected ({string.Join(", ", named.Select(s => s.Remote))}): which one to write would be a guess; name the connection (--connection ADDR:PORT) or unplug all but the one meant");
        }

        var session = named[0];
        return session.Standing switch
        {
            null => throw new ActiveSyncDeviceUnavailableException($"{device} is still connecting (unlock, partnership); run this again in a moment"),
            "guest" when !allowGuest => throw new ActiveSyncDeviceUnavailableException($"{device} is a guest here (P3: it holds two other hosts' partnerships); restoring onto a guest needs the operator's consent: add --allow-guest"),
            _ => session,
        };
    }
}
