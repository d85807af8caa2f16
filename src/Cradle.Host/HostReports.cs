using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// A device as <c>cradle host devices --json</c> and <c>GET /api/v1/devices</c> show it.
/// <c>Bytes</c>: its newest snapshot's size. <c>Confirmed</c>: false while the device has not yet
/// shown that it stored the partnership (a new pairing for its name replaces such a record).
/// <c>LastStatus</c> and <c>LastNote</c>: the newest snapshot's status (complete, partial, empty,
/// suspect) and why; <c>LastVerified</c>: when a backup last found its files unchanged.
/// </summary>
public sealed record DeviceRow(string Name, uint Number, string NumberHex, DateTimeOffset Created, DateTimeOffset? LastSeen, DateTimeOffset? LastBackup, string? LastLink, int Snapshots, long Bytes, bool Overdue, bool Confirmed,
    long? LastSnapshot = null, string? LastStatus = null, string? LastNote = null, DateTimeOffset? LastVerified = null);

/// <summary>
/// A snapshot as <c>cradle host snapshots --json</c> and <c>GET /api/v1/snapshots</c> show it.
/// <c>Status</c>: complete, partial (something could not be read: <c>Problems</c> entries, the
/// first of them in <c>ProblemList</c>, whose earlier versions stand in), empty (no file) or
/// suspect (most files vanished since the complete snapshot before); <c>Note</c> says why in
/// words (null when complete). <c>Verified</c>: when a backup last found exactly these files again.
/// </summary>
public sealed record SnapshotRow(long Id, string Device, uint Number, DateTimeOffset Time, long Files, long Bytes, string Link, bool Suspect,
    string Status = SnapshotStatus.Complete, bool Partial = false, bool Empty = false, long Problems = 0, List<ProblemRow>? ProblemList = null, string? Note = null, DateTimeOffset? Verified = null)
{
    /// <summary>Problems listed with each snapshot (the count says how many there are).</summary>
    public const int ProblemsListed = 20;

    /// <summary>Equal when every field is, the problems compared one by one (not as list references).</summary>
    public bool Equals(SnapshotRow? other) =>
        other is not null && Id == other.Id && Device == other.Device && Number == other.Number && Time == other.Time && Files == other.Files && Bytes == other.Bytes
        && Link == other.Link && Suspect == other.Suspect && Status == other.Status && Partial == other.Partial && Empty == other.Empty && Problems == other.Problems
        && (ProblemList ?? []).SequenceEqual(other.ProblemList ?? []) && Note == other.Note && Verified == other.Verified;

    public override int GetHashCode() => HashCode.Combine(Id, Device, Time, Files, Bytes, Status, Problems);

    internal static SnapshotRow Of(SnapshotInfo s, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(catalog);
        var problems = s.Partial ? catalog.ListProblems(s.Id, ProblemsListed) : [];
        return new(s.Id, s.Device, s.Number, s.Time, s.Files, s.Bytes, s.Link, s.Suspect, SnapshotStatus.Of(s), s.Partial, s.Empty, s.Problems,
            [.. problems.Select(ProblemRow.Of)], SnapshotStatus.Note(s, problems), s.Verified);
    }
}

/// <summary>Something a backup could not read: where, why, a folder or not, and how many entries of an earlier snapshot (<c>FromSnapshot</c>) stand in for it.</summary>
public sealed record ProblemRow(string Path, string Reason, bool Folder, long CarriedForward, long? FromSnapshot)
{
    internal static ProblemRow Of(SnapshotProblem p) => new(p.Path, p.Reason, p.Folder, p.CarriedForward, p.FromSnapshot);
}

/// <summary>How a snapshot stands, one word for tables and scripts, and the reason in words.</summary>
public static class SnapshotStatus
{
    public const string Complete = "complete";
    public const string Partial = "partial";
    public const string Empty = "empty";
    public const string Suspect = "suspect";

    /// <summary>The status that matters most: partial, then empty, then suspect.</summary>
    internal static string Of(SnapshotInfo s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Partial ? Partial : s.Empty ? Empty : s.Suspect ? Suspect : Complete;
    }

    /// <summary>Why the snapshot is flagged, in words (every flag that holds); null when it is complete.</summary>
    internal static string? Note(SnapshotInfo s, IReadOnlyList<SnapshotProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(problems);
        var notes = new List<string>();
        if (s.Partial)
        {
            var carried = problems.Sum(p => p.CarriedForward);
            var first = problems.Count > 0 ? problems[0] : null;
            var what = first is null ? "" : $" ({(first.Path.Length > 0 ? first.Path + (first.Folder ? "/" : "") + ": " : "")}{first.Reason}{(s.Problems > 1 ? $"; and {s.Problems - 1} more" : "")})";
            notes.Add($"partial: {Words.Count(s.Problems, "entry", "entries")} could not be read{what}; {Words.Count(carried, "entry", "entries")} of earlier snapshots kept in their place");
        }

        if (s.Empty)
        {
            notes.Add("empty: no file at all (a data folder empty or unmounted?)");
        }
        else if (s.Suspect)
        {
            notes.Add($"most files vanished: {Words.Count(s.Files, "file")}, the complete snapshot before held {s.PreviousFiles}");
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }
}

/// <summary>A waiting partnership as <c>cradle host pending --json</c> and <c>GET /api/v1/pending</c> show it.</summary>
public sealed record PendingRow(string Code, string Device, uint Number, string Address, DateTimeOffset Created);

/// <summary>What forgetting a device did.</summary>
public sealed record ForgetResult(string Device, bool PartnershipRemoved, int SnapshotsRemoved, int SnapshotsKept);

/// <summary>
/// The store's health at a glance: the last check (null: never checked), space used, and how
/// much deduplication (the snapshots' bytes over the unique chunks' bytes) and compression
/// (unique bytes over stored bytes) save.
/// </summary>
internal sealed record HealthReport(LastCheck? LastCheck, int Devices, int Snapshots, long Packs, long Chunks, long PackBytes, long DatabaseBytes, long SpaceUsed,
    long SnapshotBytes, long UniqueBytes, long StoredBytes, double DedupRatio, double CompressionRatio, long? DiskFree);

/// <summary>
/// A device name this host knows nothing of: no partnership and no snapshot. Every command and
/// endpoint that takes a device name says so the same way (the CLI: exit 2; the API: 404).
/// </summary>
public sealed class UnknownDeviceException(DeviceName device)
    : KeyNotFoundException($"this host knows no device named {device}: no partnership and no snapshot of it ('cradle host devices' lists the devices it knows)")
{
    public DeviceName Device { get; } = device;
}

/// <summary>The operator's views over the host's folder, shared by the CLI and the dashboard.</summary>
public static class HostReports
{
    /// <summary>A device whose last backup (or, never backed up, its partnership) is older than this is overdue.</summary>
    public static readonly TimeSpan DefaultOverdueAfter = TimeSpan.FromHours(24);

    internal static List<DeviceRow> Devices(ChunkStore store, TimeSpan overdueAfter, DateTimeOffset now)
    {
        using var registry = PartnershipRegistry.Open(store.Database);
        using var catalog = store.OpenCatalog();
        var snapshots = catalog.ListSnapshots();
        return registry.List().Select(p =>
        {
            var mine = snapshots.Where(s => string.Equals(s.Device, p.Name, StringComparison.OrdinalIgnoreCase)).ToList();
            var overdue = (p.LastBackup ?? p.Created) + overdueAfter < now;
            var last = mine.Count > 0 ? mine[^1] : null;
            var note = last is null ? null : SnapshotStatus.Note(last, last.Partial ? catalog.ListProblems(last.Id, 1) : []);
            return new DeviceRow(p.Name, p.Number, new PartnershipNumber(p.Number).ToString(), p.Created, p.LastSeen, p.LastBackup, p.LastLink, mine.Count, last?.Bytes ?? 0, overdue, p.Confirmed,
                last?.Id, last is null ? null : SnapshotStatus.Of(last), note, last?.Verified);
        }).ToList();
    }

    /// <summary>Snapshots, oldest first; of one device when it is given (which must be one the host knows).</summary>
    internal static List<SnapshotRow> Snapshots(ChunkStore store, DeviceName? device)
    {
        using var catalog = store.OpenCatalog();
        if (device is { } name)
        {
            RequireDevice(store, catalog, name);
        }

        return catalog.ListSnapshots(device?.Key).Select(s => SnapshotRow.Of(s, catalog)).ToList();
    }

    /// <summary>
    /// How the host spells a device it knows (a partnership or a snapshot), whatever case it was
    /// typed in; <see cref="UnknownDeviceException"/> when it knows none by that name.
    /// </summary>
    internal static string RequireDevice(ChunkStore store, Catalog catalog, DeviceName device)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(catalog);
        using var registry = PartnershipRegistry.Open(store.Database);
        return registry.Find(device)?.Name ?? catalog.ListSnapshots(device.Key).LastOrDefault()?.Device ?? throw new UnknownDeviceException(device);
    }

    internal static List<PendingRow> Pending(ChunkStore store)
    {
        using var registry = PartnershipRegistry.Open(store.Database);
        return registry.ListPending().Select(p => new PendingRow(p.Code, p.Device, p.Number, p.Address, p.Created)).ToList();
    }

    /// <summary>
    /// Removes a device's partnership (releasing its name, P5) and, unless kept, its snapshots
    /// (P4: only the operator does this). Throws when there is nothing to forget.
    /// </summary>
    internal static ForgetResult Forget(ChunkStore store, DeviceName device, bool keepBackups)
    {
        using var catalog = store.OpenCatalog();
        // Reported as the host spells it, whatever case the operator typed.
        var name = RequireDevice(store, catalog, device);
        using var registry = PartnershipRegistry.Open(store.Database);
        if (keepBackups && registry.Find(device) is null)
        {
            throw new ArgumentException($"this host has no partnership with {name}, only its snapshots: nothing to release (without --keep-backups, forget removes the snapshots)");
        }

        var had = registry.Forget(device);
        // The name is free again: whoever partners under it next owns none of these chunks.
        catalog.DeleteOwnersOf(device.Key);
        if (keepBackups)
        {
            return new ForgetResult(name, true, 0, catalog.ListSnapshots(device.Key).Count);
        }

        var removed = catalog.DeleteSnapshotsOf(device.Key);
        return new ForgetResult(name, had, removed, 0);
    }

    internal static HealthReport Health(ChunkStore store)
    {
        using var registry = PartnershipRegistry.Open(store.Database);
        using var catalog = store.OpenCatalog();
        var totals = catalog.Totals();
        var snapshots = catalog.ListSnapshots();
        var logical = snapshots.Sum(s => s.Bytes);
        var database = catalog.DatabaseBytes();
        long? free = null;
        try
        {
            free = new DriveInfo(store.Folder).AvailableFreeSpace;
        }
        catch (IOException)
        {
            // A folder on a file system that reports no free space: shown as unknown.
        }

        return new HealthReport(catalog.LastCheck(), registry.List().Count, snapshots.Count, totals.Packs, totals.Chunks, totals.PackBytes, database, totals.PackBytes + database,
            logical, totals.RawBytes, totals.StoredBytes, Ratio(logical, totals.RawBytes), Ratio(totals.RawBytes, totals.StoredBytes), free);
    }

    private static double Ratio(long over, long under) => under == 0 ? 1 : Math.Round((double)over / under, 3);
}
