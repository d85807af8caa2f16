using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// The second half of the migration to catalog schema 4: every chunk that a snapshot made before
/// it names becomes the snapshot's device's (<see cref="Catalog.OwnersSchemaVersion"/>), so a
/// device keeps deduplicating against its own history and sends again only what other devices
/// alone had sent. It reads each snapshot's tree, so it needs the packs and runs when a store
/// opens, before a host serves anyone. Resumable (the catalog keeps how far it got) and
/// idempotent (two hosts of a fleet doing it at once write the same rows); a snapshot whose tree
/// cannot be read owns nothing (its device sends those chunks again; <c>host check</c> names the damage).
/// </summary>
internal static class OwnershipBackfill
{
    /// <summary>Fills the owners of the snapshots the migration marked; returns how many snapshots it read (0: nothing to do).</summary>
    public static async Task<int> RunAsync(ChunkStore store, CancellationToken cancellationToken)
    {
        using var reader = store.OpenReader();
        var catalog = reader.Catalog;
        if (catalog.OwnersBackfillRange() is not { } range)
        {
            return 0;
        }

        var done = 0;
        foreach (var snapshot in catalog.ListSnapshots().Where(s => s.Id >= range.From && s.Id < range.Below))
        {
            var owned = new HashSet<ChunkId>();
            try
            {
                foreach (var entry in await reader.LoadTreeAsync(snapshot, cancellationToken).ConfigureAwait(false))
                {
                    owned.UnionWith(entry.Chunks);
                }
            }
            catch (Exception e) when (e is StoreCorruptException or StoreFormatException or IOException)
            {
                // Damaged: nothing of it is owned; the device's next backup sends what it needs.
                owned.Clear();
            }

            catalog.BackfillOwners(snapshot.Device.ToUpperInvariant(), [.. owned], snapshot.Id + 1);
            done++;
        }

        catalog.EndOwnersBackfill();
        return done;
    }
}
