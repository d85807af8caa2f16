using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>What a backup of a device compares with: its newest snapshot under its partnership, and that snapshot's problems.</summary>
internal static class OwnSnapshots
{
    /// <summary>
    /// The device's newest snapshot made under this partnership (since its record was created,
    /// as restore consent counts them): what an unreadable entry's earlier version comes from,
    /// and what an unchanged backup repeats. Null for a first backup.
    /// </summary>
    public static SnapshotInfo? Newest(ChunkStore store, TimeProvider time, DeviceName device)
    {
        using var registry = PartnershipRegistry.Open(store.Database, time);
        var record = registry.Find(device);
        using var catalog = store.OpenCatalog();
        return record is null ? null : catalog.ListSnapshots(device.Key).LastOrDefault(s => s.Time >= record.Created);
    }

    /// <summary>A backup with these files and these problems repeats <paramref name="snapshot"/> instead of adding one.</summary>
    public static UnchangedCandidate? Candidate(ChunkStore store, SnapshotInfo? snapshot)
    {
        if (snapshot is null)
        {
            return null;
        }

        using var catalog = store.OpenCatalog();
        return new UnchangedCandidate(snapshot, snapshot.Partial ? catalog.ListProblems(snapshot.Id) : []);
    }
}
