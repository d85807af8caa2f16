using Cradle.Content;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>What <c>cradle host check</c> found (the store's check report, in the host's rows).</summary>
public sealed record CheckResult(bool Ok, long Packs, long Chunks, long Snapshots, long BytesRead, bool ReadData, List<CheckProblemRow> Problems, List<string> Notes)
{
    internal static CheckResult Of(CheckReport r) => new(r.Ok, r.Packs, r.Chunks, r.Snapshots, r.BytesRead, r.ReadData,
        [.. r.Problems.Select(p => new CheckProblemRow(p.Kind, p.Detail, p.Pack, p.Chunk) { Affected = [.. p.Affected.Select(a => new AffectedSnapshotRow(a.Snapshot, a.Device, a.Files, a.Paths))] })],
        r.Notes);
}

/// <summary>One problem the check found and the snapshots it damages.</summary>
public sealed record CheckProblemRow(string Kind, string Detail, string? Pack, string? Chunk)
{
    public List<AffectedSnapshotRow> Affected { get; init; } = [];
}

/// <summary>A snapshot a problem damages, with the paths (at most <see cref="HostRepository.MaxPathsShown"/>) that cannot be restored.</summary>
public sealed record AffectedSnapshotRow(long Snapshot, string Device, int Files, List<string> Paths);

/// <summary>
/// Which snapshots of each device prune keeps: the last N, and the newest of each of the last N
/// days, ISO weeks and months (UTC). The newest complete snapshot of each device always stays.
/// </summary>
public sealed record KeepPolicy(int KeepLast = 0, int KeepDaily = 0, int KeepWeekly = 0, int KeepMonthly = 0);

/// <summary>
/// What prune removed (or, with a dry run, would remove). <c>ChunksWaiting</c>: condemned chunks
/// left for a later prune; <c>SessionsInFlight</c>: sessions holding a lease when prune swept.
/// </summary>
public sealed record PruneResult(bool DryRun, List<RemovedSnapshotRow> Removed, int SnapshotsKept, int PacksDeleted, int PacksRepacked, int OrphanFilesDeleted, long BytesFreed, int ChunksWaiting, int SessionsInFlight);

/// <summary>A snapshot prune removed (or would remove).</summary>
public sealed record RemovedSnapshotRow(long Id, string Device, DateTimeOffset Time, long Files, long Bytes);

public sealed partial class HostRepository
{
    /// <summary>The paths a check lists per damaged snapshot.</summary>
    public const int MaxPathsShown = StoreChecker.MaxPathsShown;

    /// <summary>Verifies the store (and, with <paramref name="readData"/>, every chunk's hash) under a "check" lease.</summary>
    public async Task<CheckResult> CheckAsync(bool readData, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        using var lease = _store.Lease("check");
        return CheckResult.Of(await new StoreChecker(_store).CheckAsync(readData, progress, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Removes the snapshots <paramref name="policy"/> does not keep, then the data no snapshot
    /// needs; <paramref name="removeOnly"/>: never more than these snapshots (the plan shown to the operator).
    /// </summary>
    public async Task<PruneResult> PruneAsync(KeepPolicy policy, bool dryRun, TimeSpan lockWait, IProgress<string>? progress, CancellationToken cancellationToken, IReadOnlySet<long>? removeOnly = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var retention = new RetentionPolicy(policy.KeepLast, policy.KeepDaily, policy.KeepWeekly, policy.KeepMonthly);
        var r = await new Pruner(_store).PruneAsync(retention, dryRun, lockWait, progress, cancellationToken, removeOnly).ConfigureAwait(false);
        return new PruneResult(r.DryRun, [.. r.Removed.Select(s => new RemovedSnapshotRow(s.Id, s.Device, s.Time, s.Files, s.Bytes))], r.SnapshotsKept, r.PacksDeleted, r.PacksRepacked,
            r.OrphanFilesDeleted, r.BytesFreed, r.ChunksWaiting, r.SessionsInFlight);
    }

    /// <summary>
    /// Restores snapshot <paramref name="snapshotId"/> into <paramref name="target"/>, every chunk
    /// verified; <paramref name="bytes"/> hears the bytes written so far.
    /// </summary>
    public async Task<RestoreResult> RestoreAsync(long snapshotId, string target, bool overwrite, bool dryRun, IProgress<long>? bytes, CancellationToken cancellationToken)
    {
        using var reader = _store.OpenReader();
        var snapshot = reader.Catalog.GetSnapshot(snapshotId) ?? throw new ArgumentException($"there is no snapshot {snapshotId}");
        var progress = bytes is null ? null : new BytesWritten(bytes);
        return await new FolderRestorer(reader).RestoreAsync(snapshot, target, new FolderRestoreOptions(overwrite, dryRun), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Passes on the bytes written, straight (the caller's own progress decides where it runs).</summary>
    private sealed class BytesWritten(IProgress<long> bytes) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => bytes.Report(value.Bytes);
    }
}

/// <summary>
/// The store's damage as the CLI tells it (exit code 5): the CLI matches exceptions here instead
/// of naming the store's exception types.
/// </summary>
public static class StoreErrors
{
    /// <summary>The store lacks or has damaged data it should hold.</summary>
    public static bool IsCorrupt(Exception e) => e is StoreCorruptException;

    /// <summary>SQLite found the catalog file (<c>cradle.db</c>) damaged or not a database at all.</summary>
    public static bool IsDamagedCatalog(Exception e) => StoreCorruptException.IsDamagedCatalog(e);
}
