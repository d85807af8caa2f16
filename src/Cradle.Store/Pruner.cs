using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// <c>cradle host prune</c>: removes the snapshots a retention policy does not keep, then the
/// data no remaining snapshot needs. Packs with nothing live are deleted; packs less than half
/// live are repacked (their live chunks copied, verified, into a new sealed pack). Holds the
/// store lock exclusively. Crash-safe by order: snapshot rows go first; a new pack is durable
/// before the transaction that moves chunk rows to it and drops the old pack rows; old files are
/// deleted last, so a crash leaves at worst unnamed files (or, on S3, staging files never
/// uploaded), which the next prune removes.
/// </summary>
public sealed class Pruner(ChunkStore store)
{
    /// <summary>A pack whose live bytes are below this share of its chunk bytes is repacked.</summary>
    public const double RepackBelow = 0.5;

    public async Task<PruneReport> PruneAsync(RetentionPolicy policy, bool dryRun, TimeSpan lockWait, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (policy.IsEmpty)
        {
            throw new ArgumentException("give at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly (prune never removes everything)");
        }

        using var storeLock = await store.LockAsync(exclusive: true, lockWait, cancellationToken).ConfigureAwait(false);
        using var reader = store.OpenReader();
        var catalog = reader.Catalog;

        var all = catalog.ListSnapshots();
        var removed = new List<RemovedSnapshot>();
        var kept = new List<SnapshotInfo>();
        foreach (var device in all.GroupBy(s => s.Device, StringComparer.OrdinalIgnoreCase))
        {
            var keep = policy.Keep(device.ToList());
            foreach (var s in device)
            {
                if (keep.ContainsKey(s.Id))
                {
                    kept.Add(s);
                }
                else
                {
                    removed.Add(new RemovedSnapshot(s.Id, s.Device, s.Time, s.Files, s.Bytes));
                }
            }
        }

        progress?.Report($"{removed.Count} of {all.Count} snapshots fall outside the policy");
        if (!dryRun && removed.Count > 0)
        {
            catalog.DeleteSnapshots(removed.Select(r => r.Id).ToList());
        }

        // Every chunk a kept snapshot needs: its tree and its files' content.
        var live = new HashSet<ChunkId>();
        foreach (var s in kept)
        {
            cancellationToken.ThrowIfCancellationRequested();
            live.UnionWith(s.Tree);
            foreach (var entry in reader.LoadTree(s))
            {
                live.UnionWith(entry.Chunks);
            }
        }

        var packs = catalog.ListPacks().ToDictionary(p => p.Id);
        var rows = catalog.ListChunks().GroupBy(r => r.Pack).ToDictionary(g => g.Key, g => g.ToList());
        var deleted = new List<PackRow>();
        var repack = new List<PackRow>();
        var livePackBytes = new Dictionary<long, long>();
        foreach (var pack in packs.Values)
        {
            var chunks = rows.GetValueOrDefault(pack.Id) ?? [];
            var total = chunks.Sum(c => (long)c.Entry.StoredLength);
            var liveBytes = chunks.Where(c => live.Contains(c.Entry.Id)).Sum(c => (long)c.Entry.StoredLength);
            livePackBytes[pack.Id] = liveBytes;
            if (liveBytes == 0)
            {
                deleted.Add(pack);
            }
            else if (liveBytes < total * RepackBelow)
            {
                repack.Add(pack);
            }
        }

        long newPackBytes = 0;
        if (dryRun)
        {
            // What the real run would write: each batch's live chunks in one new pack.
            foreach (var batch in Batches(repack, livePackBytes))
            {
                var copied = batch.SelectMany(p => rows.GetValueOrDefault(p.Id) ?? []).Where(c => live.Contains(c.Entry.Id)).DistinctBy(c => c.Entry.Id).ToList();
                newPackBytes += PackFormat.HeaderLength + PackFormat.TailLength
                    + copied.Sum(c => (long)PackFormat.RecordHeaderLength + c.Entry.StoredLength + PackFormat.FooterEntryLength);
            }
        }
        else
        {
            foreach (var batch in Batches(repack, livePackBytes))
            {
                newPackBytes += await RepackAsync(reader, catalog, batch, rows, live, cancellationToken).ConfigureAwait(false);
            }

            if (deleted.Count > 0)
            {
                catalog.ReplacePacks(null, deleted.Select(p => p.Id).ToList(), store.Time.GetUtcNow().ToUnixTimeMilliseconds());
                foreach (var pack in deleted)
                {
                    DeleteFile(pack.Name);
                }
            }
        }

        var orphans = store.UnnamedPackFiles(catalog);
        var staged = store.Packs.StagedLeftovers();
        long orphanBytes = orphans.Sum(f => store.Packs.LengthOf(f) ?? 0) + staged.Sum(f => new FileInfo(f).Length);
        if (!dryRun)
        {
            foreach (var orphan in orphans)
            {
                DeleteFile(orphan);
            }

            foreach (var file in staged)
            {
                File.Delete(file);
            }
        }

        var freed = deleted.Sum(p => p.Size) + repack.Sum(p => p.Size) - newPackBytes + orphanBytes;
        return new PruneReport(dryRun, removed, kept.Count, deleted.Count, repack.Count, orphans.Count + staged.Count, freed);
    }

    /// <summary>Groups packs to repack so that each new pack stays near the pack target size.</summary>
    private static IEnumerable<List<PackRow>> Batches(List<PackRow> packs, Dictionary<long, long> livePackBytes)
    {
        var batch = new List<PackRow>();
        long size = 0;
        foreach (var pack in packs)
        {
            var liveBytes = livePackBytes[pack.Id];
            if (batch.Count > 0 && size + liveBytes > StoreWriter.PackTargetSize)
            {
                yield return batch;
                batch = [];
                size = 0;
            }

            batch.Add(pack);
            size += liveBytes;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private async Task<long> RepackAsync(SnapshotReader reader, Catalog catalog, List<PackRow> batch, Dictionary<long, List<ChunkRow>> rows, HashSet<ChunkId> live, CancellationToken cancellationToken)
    {
        var writer = PackWriter.Create(store.Packs);
        await using (writer.ConfigureAwait(false))
        {
            var raw = new byte[ChunkerOptions.AbsoluteMaxSize];
            var copied = new HashSet<ChunkId>();
            foreach (var pack in batch)
            {
                foreach (var row in rows.GetValueOrDefault(pack.Id) ?? [])
                {
                    if (!live.Contains(row.Entry.Id) || !copied.Add(row.Entry.Id))
                    {
                        continue;
                    }

                    // Verify before copying: a damaged chunk must not be given a fresh home.
                    var stored = reader.ReadChunk(new ChunkLocation(pack.Name, row.Entry), raw.AsSpan(0, row.Entry.RawLength));
                    await writer.AppendAsync(row.Entry.Id, row.Entry.Compression, stored, row.Entry.RawLength, cancellationToken).ConfigureAwait(false);
                }
            }

            await writer.SealAsync(cancellationToken).ConfigureAwait(false);
            catalog.ReplacePacks(new SealedPack(writer.Name, writer.Length, writer.Entries), batch.Select(p => p.Id).ToList(), store.Time.GetUtcNow().ToUnixTimeMilliseconds());
            foreach (var pack in batch)
            {
                DeleteFile(pack.Name);
            }

            return writer.Length;
        }
    }

    private void DeleteFile(string packName) => store.Packs.Delete(packName);
}

/// <summary>What prune removed (or, with --dry-run, would remove).</summary>
public sealed record PruneReport(bool DryRun, List<RemovedSnapshot> Removed, int SnapshotsKept, int PacksDeleted, int PacksRepacked, int OrphanFilesDeleted, long BytesFreed);

public sealed record RemovedSnapshot(long Id, string Device, DateTimeOffset Time, long Files, long Bytes);
