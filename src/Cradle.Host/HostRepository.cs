using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// The host's store as the operator's commands see it (<c>cradle host devices</c>, <c>snapshots</c>,
/// <c>restore</c>, <c>check</c>, <c>prune</c>, <c>forget</c>…): the façade over packs, catalog and
/// partnership registry. Its results are the host's own rows, so the CLI talks to the host and
/// never reaches into the store. Opened on an existing store only (<see cref="OpenAsync"/>), or over
/// a running service's (<see cref="HostService.OpenRepository"/>).
/// </summary>
public sealed partial class HostRepository : IDisposable
{
    private readonly ChunkStore _store;
    private readonly CatalogDatabase? _ownedDatabase;

    internal HostRepository(ChunkStore store, CatalogDatabase? ownedDatabase)
    {
        _store = store;
        _ownedDatabase = ownedDatabase;
    }

    /// <summary>The host's folder (database, packs, certificate, the dashboard's token).</summary>
    public string Folder => _store.Folder;

    /// <summary>
    /// The store <paramref name="location"/> names, which must exist: only <c>cradle host run</c>
    /// makes a new store, so a mistyped folder or catalog is an error, not an empty host. Its packs
    /// are looked at (an S3 bucket asked once) only when <paramref name="readsPacks"/>.
    /// </summary>
    public static async Task<HostRepository> OpenAsync(StoreLocation location, bool readsPacks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        var database = CatalogDatabase.Open(location.Catalog, location.Folder);
        try
        {
            RequireExisting(location, database);
            var packs = readsPacks ? await HostStorage.OpenPacksAsync(location, cancellationToken).ConfigureAwait(false) : PackStorage.Open(null, location.Folder);
            var store = await ChunkStore.OpenAsync(location.Folder, packs: packs, database: database, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new HostRepository(store, database);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>Refuses a folder or catalog that holds no store yet, naming it and where the name came from.</summary>
    private static void RequireExisting(StoreLocation location, CatalogDatabase database)
    {
        if (database.HoldsCatalog())
        {
            return;
        }

        throw new ArgumentException(database.FilePath is { } file
            ? $"{location.Folder} holds no Cradle host: there is no {Path.GetFileName(file)} in it; check {location.FolderOrigin}. Only 'cradle host run --data {location.Folder}' makes a new one"
            : $"the catalog {database.Description} holds no Cradle host yet; check {location.CatalogOrigin}. Only 'cradle host run' makes a new one");
    }

    /// <summary>
    /// Marks the store in use by an operator's command of this <paramref name="kind"/> (restore,
    /// check) until disposed: prune waits for it instead of removing what it reads.
    /// </summary>
    public IDisposable Lease(string kind) => _store.Lease(kind);

    /// <summary>The partnership registry (the caller disposes it).</summary>
    public PartnershipRegistry OpenRegistry() => PartnershipRegistry.Open(_store.Database);

    /// <summary>Every partnered device, as <c>cradle host devices</c> lists them.</summary>
    public List<DeviceRow> Devices(TimeSpan overdueAfter, DateTimeOffset now) => HostReports.Devices(_store, overdueAfter, now);

    /// <summary>Snapshots, oldest first; only <paramref name="device"/>'s when given.</summary>
    public List<SnapshotRow> Snapshots(DeviceName? device) => HostReports.Snapshots(_store, device);

    /// <summary>Partnerships waiting for the operator.</summary>
    public List<PendingRow> Pending() => HostReports.Pending(_store);

    /// <summary>How the host spells a device it knows; <see cref="UnknownDeviceException"/> when it knows none by that name.</summary>
    public string RequireDevice(DeviceName device)
    {
        using var catalog = _store.OpenCatalog();
        return HostReports.RequireDevice(_store, catalog, device);
    }

    /// <summary>Removes a device's partnership and, unless kept, its snapshots (<see cref="HostReports.Forget"/>).</summary>
    public ForgetResult Forget(DeviceName device, bool keepBackups) => HostReports.Forget(_store, device, keepBackups);

    /// <summary>The operator's decision on a waiting partnership, and what the running host made of it.</summary>
    public Task<DecisionDone> DecideAsync(string code, PendingState decision, TimeProvider time, TimeSpan wait, CancellationToken cancellationToken) =>
        ApprovalDecision.DecideAsync(_store.Database, code, decision, time, wait, cancellationToken);

    /// <summary>
    /// Snapshot <paramref name="id"/> of <paramref name="device"/>, or its latest when no id is
    /// given; <see cref="ArgumentException"/> when there is none or it is another device's.
    /// </summary>
    public SnapshotRow FindSnapshot(DeviceName device, long? id)
    {
        using var catalog = _store.OpenCatalog();
        SnapshotInfo found;
        if (id is { } wanted)
        {
            found = catalog.GetSnapshot(wanted) ?? throw new ArgumentException($"there is no snapshot {wanted}");
            if (!string.Equals(found.Device, device.Value, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"snapshot {wanted} belongs to {found.Device}, not {device}");
            }
        }
        else
        {
            var list = catalog.ListSnapshots(device.Key);
            found = list.Count > 0 ? list[^1] : throw new ArgumentException($"this host keeps no snapshot of {device} yet");
        }

        return SnapshotRow.Of(found, catalog);
    }

    /// <summary>Snapshot <paramref name="id"/>, whichever device's; null when there is none.</summary>
    public SnapshotRow? GetSnapshot(long id)
    {
        using var catalog = _store.OpenCatalog();
        return catalog.GetSnapshot(id) is { } found ? SnapshotRow.Of(found, catalog) : null;
    }

    /// <summary>Closes the catalog when this repository opened it (not a running service's).</summary>
    public void Dispose() => _ownedDatabase?.Dispose();
}
