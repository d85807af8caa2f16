using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// <c>cradle host prune</c>: removes the snapshots a retention policy does not keep, then the
/// data no remaining snapshot needs. Packs with nothing live are deleted; packs less than half
/// live are repacked (their live chunks copied, verified, into a new sealed pack).
/// Runs beside backups, restores and checks, on this host and on every other host sharing the
/// catalog, by two-phase deletion (scale.md): it *marks* what no snapshot needs (condemned
/// chunks, retired packs, unnamed files it saw) with the current epoch, and *sweeps* a mark only
/// once no session that began at or before it still holds a lease; what it cannot sweep yet the
/// next prune does. One prune at a time (a maintenance lock in the catalog). Crash-safe by
/// order: snapshot rows go first; a new pack is durable before the transaction that moves chunk
/// rows to it; rows go before files, so a crash leaves at worst unnamed files (or, on S3,
/// staging files never uploaded), which a later prune removes.
/// </summary>
internal sealed class Pruner(ChunkStore store)
{
    /// <summary>A pack whose live bytes are below this share of its chunk bytes is repacked.</summary>
    public const double RepackBelow = 0.5;

    /// <summary>
    /// Prunes by <paramref name="policy"/>. <paramref name="removeOnly"/>: remove no snapshot
    /// outside this set (the ones a dry run showed and the operator confirmed), even if the
    /// policy now drops more because backups arrived meanwhile.
    /// </summary>
    public async Task<PruneReport> PruneAsync(RetentionPolicy policy, bool dryRun, TimeSpan lockWait, IProgress<string>? progress, CancellationToken cancellationToken, IReadOnlySet<long>? removeOnly = null)
    {
        if (policy.IsEmpty)
        {
            throw new ArgumentException("give at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly (prune never removes everything)");
        }

        using var maintenance = await MaintenanceLock.AcquireAsync(store, "prune", lockWait, cancellationToken).ConfigureAwait(false);
        using var reader = store.OpenReader();
        var catalog = reader.Catalog;

        // Files the catalog does not name, seen before anything is marked: each was written by a
        // session holding a lease from this epoch or before (a lease comes before its first pack).
        var unnamedEpoch = catalog.Epoch();
        var unnamed = await store.UnnamedPackFilesAsync(catalog, cancellationToken).ConfigureAwait(false);
        var staged = store.Packs.StagedLeftovers();

        var all = catalog.ListSnapshots();
        var removed = new List<RemovedSnapshot>();
        var kept = new List<SnapshotInfo>();
        foreach (var device in all.GroupBy(s => s.Device, StringComparer.OrdinalIgnoreCase))
        {
            var keep = policy.Keep(device.ToList());
            foreach (var s in device)
            {
                if (keep.ContainsKey(s.Id) || (removeOnly is not null && !removeOnly.Contains(s.Id)))
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

        var live = new HashSet<ChunkId>();
        var counted = new HashSet<long>();
        await AddLiveAsync(reader, kept, live, counted, cancellationToken).ConfigureAwait(false);

        var packs = catalog.ListPacks().ToDictionary(p => p.Id);
        var allRows = catalog.ListChunks().ToList();
        var rows = allRows.GroupBy(r => r.Pack).ToDictionary(g => g.Key, g => g.ToList());
        var share = SharesOf(allRows);
        var dead = new List<PackRow>();
        var repack = new List<PackRow>();
        var livePackBytes = new Dictionary<long, long>();
        foreach (var pack in packs.Values)
        {
            var chunks = rows.GetValueOrDefault(pack.Id) ?? [];
            var total = chunks.Sum(share);
            var liveBytes = chunks.Where(c => live.Contains(c.Entry.Id)).Sum(share);
            livePackBytes[pack.Id] = liveBytes;
            if (liveBytes == 0)
            {
                dead.Add(pack);
            }
            else if (liveBytes < total * RepackBelow)
            {
                repack.Add(pack);
            }
        }

        if (dryRun)
        {
            // What the real run would do with no session running: each batch's live chunks in one new pack.
            long newBytes = 0;
            foreach (var batch in Batches(repack, livePackBytes))
            {
                var copied = batch.SelectMany(p => rows.GetValueOrDefault(p.Id) ?? []).Where(c => live.Contains(c.Entry.Id)).DistinctBy(c => c.Entry.Id).ToList();
                newBytes += PackFormat.HeaderLength + PackFormat.TailLength
                    + copied.Sum(c => PackFormat.RecordHeaderLength + share(c) + PackFormat.FooterEntryLength);
            }

            var orphanBytes = staged.Sum(f => new FileInfo(f).Length);
            foreach (var file in unnamed)
            {
                orphanBytes += await store.Packs.LengthOfAsync(file, cancellationToken).ConfigureAwait(false) ?? 0;
            }

            var freed = dead.Sum(p => p.Size) + repack.Sum(p => p.Size) - newBytes + orphanBytes;
            return new PruneReport(true, removed, kept.Count, dead.Count, repack.Count, unnamed.Count + staged.Count, freed, 0, 0);
        }

        // Mark: the chunks no kept snapshot names are condemned (absent to new backups from here on).
        var condemnedNow = rows.Values.SelectMany(r => r).Select(r => r.Entry.Id).Where(id => !live.Contains(id)).ToHashSet();
        catalog.Condemn(condemnedNow);
        long newPackBytes = 0;
        var trees = kept.SelectMany(k => k.Tree).ToHashSet();
        foreach (var batch in Batches(repack, livePackBytes))
        {
            newPackBytes += await RepackAsync(reader, catalog, batch, rows, live, trees, cancellationToken).ConfigureAwait(false);
        }

        // Sweep what no live session can still need. Sessions of processes of this machine that
        // were killed hold nothing back; elsewhere a lease dies when it stops being renewed.
        catalog.ReleaseLeasesOf(StoreLease.IsDeadLocalHolder);
        var oldest = catalog.OldestLiveLease(store.Time.GetUtcNow().ToUnixTimeMilliseconds(), StoreLease.Timeout);
        var safeBefore = oldest ?? catalog.Epoch();
        var condemned = catalog.ListCondemned();

        // Sessions that ended since the live set was taken may have committed snapshots naming
        // condemned chunks (they began before the mark, when those were present): those live again.
        await AddLiveAsync(reader, catalog.ListSnapshots(), live, counted, cancellationToken).ConfigureAwait(false);
        var rescued = condemned.Keys.Where(live.Contains).ToList();
        var deletable = condemned.Where(c => c.Value < safeBefore && !live.Contains(c.Key)).Select(c => c.Key).ToList();
        var swept = catalog.Sweep(rescued, deletable, safeBefore);
        foreach (var pack in swept)
        {
            await store.Packs.DeleteAsync(pack.Name, cancellationToken).ConfigureAwait(false);
        }

        // A chunk that is gone is nobody's: were it sent again later, only its sender would own it.
        catalog.DeleteOwnersOfMissingChunks();

        // Unnamed files: only once every session that could be about to name them has ended.
        long orphanBytesFreed = 0;
        var orphansDeleted = 0;
        if (unnamedEpoch < safeBefore)
        {
            var named = catalog.ListPacks().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var file in unnamed.Where(f => !named.Contains(f)))
            {
                orphanBytesFreed += await store.Packs.LengthOfAsync(file, cancellationToken).ConfigureAwait(false) ?? 0;
                await store.Packs.DeleteAsync(file, cancellationToken).ConfigureAwait(false);
                orphansDeleted++;
            }

            foreach (var file in staged.Where(File.Exists))
            {
                orphanBytesFreed += new FileInfo(file).Length;
                File.Delete(file);
                orphansDeleted++;
            }
        }

        var repacked = repack.Select(p => p.Id).ToHashSet();
        var waiting = catalog.ListCondemned().Count;
        var sessions = oldest is null ? 0 : catalog.LiveLeases();
        if (waiting > 0 || orphansDeleted < unnamed.Count + staged.Count)
        {
            progress?.Report($"{waiting} condemned chunks and {unnamed.Count + staged.Count - orphansDeleted} unnamed files wait for {sessions} sessions in flight to end; the next prune removes them");
        }

        var freedBytes = swept.Sum(p => p.Size) - newPackBytes + orphanBytesFreed;
        return new PruneReport(false, removed, kept.Count, swept.Count(p => !repacked.Contains(p.Id)), repack.Count, orphansDeleted, freedBytes, waiting, sessions);
    }

    /// <summary>Adds every chunk the snapshots need (their tree and their files' content), once per snapshot.</summary>
    private static async Task AddLiveAsync(SnapshotReader reader, IEnumerable<SnapshotInfo> snapshots, HashSet<ChunkId> live, HashSet<long> counted, CancellationToken cancellationToken)
    {
        foreach (var s in snapshots)
        {
            if (!counted.Add(s.Id))
            {
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            live.UnionWith(s.Tree);
            foreach (var entry in await reader.LoadTreeAsync(s, cancellationToken).ConfigureAwait(false))
            {
                live.UnionWith(entry.Chunks);
            }
        }
    }

    /// <summary>
    /// A chunk row's share of its pack's bytes: its stored length, or for a member of a
    /// compression group (whose rows all carry the whole group's length) the group's stored
    /// length in proportion to the member's raw bytes.
    /// </summary>
    private static Func<ChunkRow, long> SharesOf(List<ChunkRow> rows)
    {
        var groupRaw = rows.Where(r => r.Entry.Compression == ChunkCompression.ZstdGroup)
            .GroupBy(r => (r.Pack, r.Entry.Offset))
            .ToDictionary(g => g.Key, g => g.Sum(r => (long)r.Entry.RawLength));
        // At least 1: a live member of a group that compressed very well must not make its
        // pack look dead (a dead pack with rows is never deleted, nor repacked).
        return r => r.Entry.Compression == ChunkCompression.ZstdGroup
            ? Math.Max(1, r.Entry.StoredLength * (long)r.Entry.RawLength / groupRaw[(r.Pack, r.Entry.Offset)])
            : r.Entry.StoredLength;
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

    private async Task<long> RepackAsync(SnapshotReader reader, Catalog catalog, List<PackRow> batch, Dictionary<long, List<ChunkRow>> rows, HashSet<ChunkId> live, HashSet<ChunkId> trees, CancellationToken cancellationToken)
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
                    // Small compressed file chunks (alone or in a group) go into the new pack's
                    // groups; a snapshot's tree chunks and the large chunks kept in their own
                    // frame stay records of their own, as StoreWriter keeps them.
                    var location = new ChunkLocation(pack.Name, row.Entry);
                    var content = raw.AsMemory(0, row.Entry.RawLength);
                    if (row.Entry.Compression == ChunkCompression.None || PackFormat.StaysAlone(row.Entry.Compression, row.Entry.RawLength) || trees.Contains(row.Entry.Id))
                    {
                        var (compression, stored) = await reader.ReadChunkToSendAsync(location, content, null, cancellationToken).ConfigureAwait(false);
                        await writer.AppendAsync(row.Entry.Id, compression, stored, row.Entry.RawLength, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await reader.ReadChunkAsync(location, content, cancellationToken).ConfigureAwait(false);
                        await writer.AppendGroupedAsync(row.Entry.Id, content, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            await writer.SealAsync(cancellationToken).ConfigureAwait(false);
            catalog.Repack(new SealedPack(writer.Name, writer.Length, writer.Entries), batch.Select(p => p.Id).ToList(), store.Time.GetUtcNow().ToUnixTimeMilliseconds());
            return writer.Length;
        }
    }
}

/// <summary>What prune removed (or, with --dry-run, would remove).</summary>
/// <remarks>
/// <c>ChunksWaiting</c>: condemned chunks left for a later prune (sessions that began before they
/// were marked still run). <c>SessionsInFlight</c>: sessions, on any host sharing the catalog,
/// holding a lease when prune swept.
/// </remarks>
internal sealed record PruneReport(bool DryRun, List<RemovedSnapshot> Removed, int SnapshotsKept, int PacksDeleted, int PacksRepacked, int OrphanFilesDeleted, long BytesFreed, int ChunksWaiting, int SessionsInFlight);

internal sealed record RemovedSnapshot(long Id, string Device, DateTimeOffset Time, long Files, long Bytes);
