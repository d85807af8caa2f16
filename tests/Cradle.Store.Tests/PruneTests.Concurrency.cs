using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>Prune beside backups in flight, leases, processes that died, and two prunes at once.</summary>
public abstract partial class PruneTests
{
    [Fact]
    public async Task Prune_beside_a_backup_in_flight_deletes_nothing_until_the_backup_has_ended()
    {
        var (a1, a2, a3, b1, b2) = await FiveSnapshotsAsync();
        var packs = (await PackFileContentsAsync());
        StoreTotals before, waiting;
        using (var catalog = _store.Store.OpenCatalog())
        {
            before = catalog.Totals();
        }

        PruneReport during;
        var writer = await _store.Store.BeginWriteAsync(CancellationToken.None);
        await using (writer)
        {
            during = await PruneAsync(new RetentionPolicy(KeepLast: 1));
            using (var catalog = _store.Store.OpenCatalog())
            {
                waiting = catalog.Totals();
            }

            await writer.AbortAsync(CancellationToken.None);
        }

        // The snapshots went at once; their data waits: the backup began before the mark.
        Assert.Equal(3, during.Removed.Count);
        Assert.Equal(new[] { b2, a3 }, _store.SnapshotIds());
        Assert.True(during.ChunksWaiting > 0, "prune condemned nothing");
        Assert.Equal(1, during.SessionsInFlight);
        Assert.Equal(0, during.PacksDeleted);
        Assert.True(during.BytesFreed <= 0, $"{during.BytesFreed} bytes freed while the backup ran"); // a repack's new pack, at most
        var contentsDuring = await PackFileContentsAsync();
        Assert.All(packs, p => Assert.Equal(p.Value, contentsDuring.GetValueOrDefault(p.Key)));

        // The reports (dashboard health, dedup and compression ratios) leave out the chunks that
        // only wait for deletion, though their packs are still on disk.
        Assert.Equal(before.Chunks - during.ChunksWaiting, waiting.Chunks);
        Assert.True(waiting.RawBytes < before.RawBytes, "the condemned chunks' bytes are still counted");
        Assert.True(waiting.PackBytes >= before.PackBytes, "packs still on disk are not counted");

        // Once the backup has ended, the next prune deletes what the first one marked.
        var after = await PruneAsync(new RetentionPolicy(KeepLast: 1));
        Assert.Empty(after.Removed);
        Assert.Equal((0, 0), (after.ChunksWaiting, after.SessionsInFlight));
        Assert.True(after.BytesFreed > 0, "nothing was freed once the backup had ended");
        Assert.True(after.PacksDeleted > 0, "no pack was deleted once the backup had ended");
        await _store.AssertRestoresAsync(a3);
        await _store.AssertRestoresAsync(b2);
        await AssertChecksCleanAsync();
        Assert.DoesNotContain(a1, _store.SnapshotIds());
        Assert.DoesNotContain(a2, _store.SnapshotIds());
        Assert.DoesNotContain(b1, _store.SnapshotIds());
    }

    [Fact]
    public async Task A_chunk_a_backup_in_flight_counted_on_before_the_mark_survives_when_that_backup_commits_it()
    {
        var a1 = await _store.BackupAsync(Alpha, Files(("a.bin", TestData.Bytes(80, 300_000))));
        var b1 = await _store.BackupAsync(Bravo, Files(("b.bin", TestData.Bytes(82, 100_000))));
        var old = _store.Contents[a1]["a.bin"];
        var oldIds = await TestStore.ChunkIdsAsync(old);
        var added = TestData.Bytes(81, 200_000);
        long a2;
        var writer = await _store.Store.BeginWriteAsync(CancellationToken.None);
        await using (writer)
        {
            // The backup learns that the store has a.bin's chunks (the device will not send them) …
            Assert.All(oldIds, id => Assert.True(writer.Has(id)));

            // … then a prune removes a1, the only snapshot naming them (Alpha's snapshot goes; Bravo keeps b1).
            // Alpha's only snapshot goes as `host forget` would remove it (retention always keeps one).
            using (var catalog = _store.Store.OpenCatalog())
            {
                catalog.DeleteSnapshots([a1]);
            }

            var during = await PruneAsync(new RetentionPolicy(KeepLast: 1));
            Assert.True(during.ChunksWaiting >= oldIds.Count, $"a.bin's {oldIds.Count} chunks should wait, {during.ChunksWaiting} do");
            Assert.All(oldIds, id => Assert.False(CatalogHas(id), "a condemned chunk must look absent to new backups"));

            // The backup names them anyway (it was told they were there) and commits.
            var entries = new List<TreeEntry> { new("a.bin", EntryKind.File, old.Length, 0, 0, [.. oldIds]) };
            var ids = new List<ChunkId>();
            using var codec = new ChunkCodec();
            var chunker = new Chunker(new MemoryStream(added));
            while (await chunker.MoveNextAsync(CancellationToken.None))
            {
                var id = ChunkId.Of(chunker.Current.Span);
                ids.Add(id);
                var (compression, data) = codec.Compress(chunker.Current);
                await writer.AddAsync(id, compression, data, chunker.Current, CancellationToken.None);
            }

            entries.Add(new TreeEntry("added.bin", EntryKind.File, added.Length, 0, 0, [.. ids]));
            a2 = await writer.CommitAsync(TestStore.Request(Alpha), entries, CancellationToken.None);
        }

        _store.Contents[a2] = Files(("a.bin", old), ("added.bin", added));

        // Until the next prune takes them back, a2 names condemned rows: check counts them as there.
        await AssertChecksCleanAsync();
        await _store.AssertRestoresAsync(a2);

        // The next prune sees a2 naming them: they are taken back, not deleted.
        var after = await PruneAsync(new RetentionPolicy(KeepLast: 1));
        Assert.Equal(0, after.ChunksWaiting);
        Assert.All(oldIds, id => Assert.True(CatalogHas(id)));
        await _store.AssertRestoresAsync(a2);
        await _store.AssertRestoresAsync(b1);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_backup_beginning_after_the_mark_sends_a_condemned_chunk_again_and_its_commit_takes_the_row_back()
    {
        var a1 = await _store.BackupAsync(Alpha, Files(("a.bin", TestData.Bytes(90, 200_000))));
        var content = _store.Contents[a1]["a.bin"];
        await _store.BackupAsync(Bravo, Files(("b.bin", TestData.Bytes(91, 50_000))));
        long a2;
        using (var holder = _store.Store.Lease("restore"))
        {
            // A long restore holds the old data back; a1 goes; a.bin's chunks are condemned and wait.
            using (var catalog = _store.Store.OpenCatalog())
            {
                catalog.DeleteSnapshots([a1]);
            }

            var during = await PruneAsync(new RetentionPolicy(KeepLast: 1));
            Assert.True(during.ChunksWaiting > 0);

            // A backup of the same file now: the store says it lacks the chunks, so they come again.
            a2 = await _store.BackupAsync(Alpha, Files(("a.bin", content)));
        }

        // The waiting marks are swept; the rows a2's commit took back point at its new pack.
        var after = await PruneAsync(new RetentionPolicy(KeepLast: 1));
        Assert.Equal(0, after.ChunksWaiting);
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_lease_left_by_a_process_that_died_stops_holding_deletion_after_its_timeout_and_cannot_commit()
    {
        var (_, _, a3, _, b2) = await FiveSnapshotsAsync();
        var abandoned = await _store.Store.BeginWriteAsync(CancellationToken.None); // never renewed: its process "died"
        var held = await PruneAsync(new RetentionPolicy(KeepLast: 1));
        Assert.True(held.ChunksWaiting > 0);

        _store.Clock.Now += StoreLease.Timeout + TimeSpan.FromMinutes(1);
        var freed = await PruneAsync(new RetentionPolicy(KeepLast: 1));
        Assert.Equal((0, 0), (freed.ChunksWaiting, freed.SessionsInFlight));
        Assert.True(freed.BytesFreed > 0);

        // The session that lost its lease may count on what was deleted: its commit is refused.
        var e = await Assert.ThrowsAsync<CradleException>(async () => await abandoned.CommitAsync(TestStore.Request(Alpha), [], CancellationToken.None));
        Assert.Contains("lease on the store expired", e.Message, StringComparison.Ordinal);
        await abandoned.DisposeAsync();

        // What it wrote before the refusal is an unnamed pack, for the next prune.
        Assert.Equal(1, (await PruneAsync(new RetentionPolicy(KeepLast: 1))).OrphanFilesDeleted);
        await _store.AssertRestoresAsync(a3);
        await _store.AssertRestoresAsync(b2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task An_unnamed_pack_file_stays_while_a_session_that_may_yet_name_it_runs()
    {
        await _store.BackupAsync(Alpha, Files(("a.bin", TestData.Bytes(95, 100_000))));
        string stray;
        using (_store.Store.Lease("backup"))
        {
            stray = await WriteUnnamedPackAsync();
            var during = await PruneAsync(new RetentionPolicy(KeepLast: 1));
            Assert.Equal(0, during.OrphanFilesDeleted);
            Assert.Contains(stray, (await _store.PackFilesOnDiskAsync()));
        }

        var after = await PruneAsync(new RetentionPolicy(KeepLast: 1));
        Assert.Equal(1, after.OrphanFilesDeleted);
        Assert.DoesNotContain(stray, (await _store.PackFilesOnDiskAsync()));
    }

    [Fact]
    public async Task A_lease_and_the_prune_lock_of_a_killed_process_of_this_machine_hold_nothing_back()
    {
        var (_, _, a3, _, b2) = await FiveSnapshotsAsync();
        using var dead = System.Diagnostics.Process.Start("true")!;
        dead.WaitForExit();
        var holder = $"{Environment.MachineName}:{dead.Id}";
        var now = _store.Clock.Now.ToUnixTimeMilliseconds();
        using (var catalog = _store.Store.OpenCatalog())
        {
            catalog.TakeLease(holder, "backup", now);
            Assert.True(catalog.TryTakeMaintenance("prune", holder + ":x", now, StoreLease.Timeout));
        }

        // Neither the lock nor the lease of the killed process waits out its timeout.
        var report = await new Pruner(_store.Store).PruneAsync(new RetentionPolicy(KeepLast: 1), dryRun: false, TimeSpan.Zero, null, CancellationToken.None);
        Assert.Equal((0, 0), (report.ChunksWaiting, report.SessionsInFlight));
        Assert.True(report.BytesFreed > 0);
        await _store.AssertRestoresAsync(a3);
        await _store.AssertRestoresAsync(b2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task Two_prunes_never_run_at_once_and_a_backup_starts_beside_a_prune()
    {
        using (await MaintenanceLock.AcquireAsync(_store.Store, "prune", TimeSpan.Zero, CancellationToken.None))
        {
            var e = await Assert.ThrowsAsync<CradleException>(() => new Pruner(_store.Store).PruneAsync(new RetentionPolicy(KeepLast: 1), dryRun: false, TimeSpan.FromMilliseconds(300), null, CancellationToken.None));
            Assert.True(e.IsTransient);
            Assert.Contains("another prune is running", e.Message, StringComparison.Ordinal);

            // Backups, checks and restores do not wait for prune.
            var writer = await _store.Store.BeginWriteAsync(CancellationToken.None);
            await writer.DisposeAsync();
            using var check = _store.Store.Lease("check");
        }

        // Released: the next prune runs.
        await PruneAsync(new RetentionPolicy(KeepLast: 1));
    }
}
