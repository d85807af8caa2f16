using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>Prune on a real store: what goes, what stays, and that what stays still restores and checks clean.</summary>
public sealed class PruneOnFolderAndSqliteTests() : PruneTests(PackPlace.Folder, CatalogKind.Sqlite);

public sealed class PruneOnS3Tests() : PruneTests(PackPlace.S3, CatalogKind.Sqlite);

public sealed class PruneOnPostgresTests() : PruneTests(PackPlace.Folder, CatalogKind.Postgres);

public sealed class PruneOnS3AndPostgresTests() : PruneTests(PackPlace.S3, CatalogKind.Postgres);

public abstract partial class PruneTests(PackPlace place, CatalogKind catalog) : IAsyncLifetime
{
    private const string Alpha = "ALPHA-1";
    private const string Bravo = "BRAVO-2";

    private readonly TempFolder _temp = new();
    private TestStore _store = null!;

    public async Task InitializeAsync() => _store = await TestStore.OpenAsync(_temp["store"], _temp.Path, packs: PackPlaces.New(place, "prune"), catalog: catalog);

    public Task DisposeAsync()
    {
        _store?.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    private Task<PruneReport> PruneAsync(RetentionPolicy policy, bool dryRun = false) =>
        new Pruner(_store.Store).PruneAsync(policy, dryRun, TimeSpan.FromSeconds(30), null, CancellationToken.None);

    private async Task AssertChecksCleanAsync()
    {
        var report = await new StoreChecker(_store.Store).CheckAsync(readData: true, null, CancellationToken.None);
        Assert.True(report.Ok, string.Join("\n", report.Problems.Select(p => $"{p.Kind}: {p.Detail}")));
        Assert.Empty(report.Notes);
    }

    private static Dictionary<string, byte[]> Files(params (string Path, byte[] Content)[] files) =>
        files.ToDictionary(f => f.Path, f => f.Content, StringComparer.Ordinal);

    private bool CatalogHas(ChunkId id)
    {
        using var catalog = _store.Store.OpenCatalog();
        return catalog.HasChunk(id);
    }

    /// <summary>Two devices, five snapshots; files kept, changed and deleted along the way.</summary>
    private async Task<(long A1, long A2, long A3, long B1, long B2)> FiveSnapshotsAsync()
    {
        var a = TestData.Bytes(10, 300_000);
        var common = TestData.Text(80_000);
        var b = TestData.Bytes(11, 200_000);
        var c = TestData.Bytes(12, 100_000);
        var x = TestData.Bytes(20, 200_000);
        var y = TestData.Bytes(21, 120_000);
        var a1 = await _store.BackupAsync(Alpha, Files(("alpha/a.bin", a), ("alpha/common.txt", common)));
        var b1 = await _store.BackupAsync(Bravo, Files(("bravo/x.bin", x)));
        var a2 = await _store.BackupAsync(Alpha, Files(("alpha/a.bin", a), ("alpha/b.bin", b), ("alpha/common.txt", common)));
        var b2 = await _store.BackupAsync(Bravo, Files(("bravo/x.bin", x), ("bravo/y.bin", y)));
        var a3 = await _store.BackupAsync(Alpha, Files(("alpha/b.bin", b), ("alpha/c.bin", c), ("alpha/common.txt", common)));
        return (a1, a2, a3, b1, b2);
    }

    [Fact]
    public async Task Keep_last_1_removes_the_older_snapshots_of_each_device_and_the_rest_restores_and_checks_clean()
    {
        var (a1, a2, a3, b1, b2) = await FiveSnapshotsAsync();
        var onlyInRemoved = await TestStore.ChunkIdsAsync(_store.Contents[a1]["alpha/a.bin"]);
        var bytesBefore = (await PackBytesOnDiskAsync());

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.False(report.DryRun);
        Assert.Equal(new[] { a1, a2, b1 }.Order(), report.Removed.Select(r => r.Id).Order());
        Assert.Equal(Alpha, report.Removed.Single(r => r.Id == a1).Device);
        Assert.Equal(Bravo, report.Removed.Single(r => r.Id == b1).Device);
        Assert.Equal(2, report.SnapshotsKept);
        Assert.True(report.BytesFreed > 250_000, $"freed {report.BytesFreed}");
        Assert.Equal(bytesBefore - (await PackBytesOnDiskAsync()), report.BytesFreed);
        Assert.Equal(new[] { b2, a3 }.Order(), _store.SnapshotIds().Order());
        await _store.AssertRestoresAsync(a3);
        await _store.AssertRestoresAsync(b2);
        await AssertChecksCleanAsync();
        Assert.All(onlyInRemoved, id => Assert.False(CatalogHas(id), $"chunk {id} of a file only removed snapshots had is still there"));
        Assert.Equal(_store.PacksInCatalog(), (await _store.PackFilesOnDiskAsync()));
    }

    [Fact]
    public async Task A_pack_with_no_live_chunk_is_deleted()
    {
        var a1 = await _store.BackupAsync(Alpha, Files(("old.bin", TestData.Bytes(30, 400_000))));
        var pack1 = Assert.Single((await _store.PackFilesOnDiskAsync()));
        var a2 = await _store.BackupAsync(Alpha, Files(("new.bin", TestData.Bytes(31, 300_000))));
        var pack2 = Assert.Single((await _store.PackFilesOnDiskAsync()), p => p != pack1);

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal([a1], report.Removed.Select(r => r.Id));
        Assert.Equal((1, 0), (report.PacksDeleted, report.PacksRepacked));
        Assert.Equal([pack2], (await _store.PackFilesOnDiskAsync()));
        Assert.Equal([pack2], _store.PacksInCatalog());
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_pack_less_than_half_live_is_repacked_into_a_new_pack_and_still_restores()
    {
        var keep = TestData.Bytes(41, 100_000);
        await _store.BackupAsync(Alpha, Files(("big.bin", TestData.Bytes(40, 900_000)), ("keep.bin", keep)));
        var pack1 = Assert.Single((await _store.PackFilesOnDiskAsync()));
        var a2 = await _store.BackupAsync(Alpha, Files(("keep.bin", keep)));
        var pack2 = Assert.Single((await _store.PackFilesOnDiskAsync()), p => p != pack1);

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal((0, 1), (report.PacksDeleted, report.PacksRepacked));
        var packs = (await _store.PackFilesOnDiskAsync());
        Assert.Equal(2, packs.Count);
        Assert.DoesNotContain(pack1, packs);
        Assert.Contains(pack2, packs);
        var repacked = Assert.Single(packs, p => p != pack2);
        Assert.Equal(packs, _store.PacksInCatalog());
        Assert.All(await TestStore.ChunkIdsAsync(keep), id => Assert.Equal(repacked, _store.Locate(id).PackName));
        Assert.True(await _store.PackLengthAsync(repacked) < 200_000);
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_compression_group_less_than_half_live_is_repacked_with_its_live_members_only_and_still_restores()
    {
        // Half the files stay (fewer would make the second snapshot suspect, and prune would keep
        // the first), but they are the small ones: the group is less than half live.
        var logs = Enumerable.Range(0, 40).Select(i => ($"Logs/{i:D2}.log", TestData.Log(i, i < 20 ? 1_500 : 12_000))).ToArray();
        await _store.BackupAsync(Alpha, Files(logs));
        var pack1 = Assert.Single((await _store.PackFilesOnDiskAsync()));
        var pack1Length = await _store.PackLengthAsync(pack1);
        Assert.Equal(ChunkCompression.ZstdGroup, _store.Locate(ChunkId.Of(logs[0].Item2)).Entry.Compression);
        var kept = logs.Take(20).ToArray();
        var a2 = await _store.BackupAsync(Alpha, Files(kept));

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal(1, report.PacksRepacked);
        Assert.DoesNotContain(pack1, (await _store.PackFilesOnDiskAsync()));
        var locations = kept.Select(f => _store.Locate(ChunkId.Of(f.Item2))).ToList();
        Assert.All(locations, l => Assert.Equal(ChunkCompression.ZstdGroup, l.Entry.Compression));
        var repacked = Assert.Single(locations.Select(l => (l.PackName, l.Entry.Offset)).Distinct());
        Assert.True(await _store.PackLengthAsync(repacked.PackName) < pack1Length / 3, $"the new pack holds the small half of the members: {await _store.PackLengthAsync(repacked.PackName)} bytes, the old {pack1Length}");
        Assert.All(logs.Skip(20), f => Assert.False(CatalogHas(ChunkId.Of(f.Item2))));
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task Repack_keeps_a_snapshots_list_of_files_out_of_compression_groups()
    {
        // Two snapshots whose lists of files share their first chunks: the second lacks only the
        // last file, a big one. Pruning the first repacks its pack, which still holds the shared
        // chunks of the second's list.
        var files = Enumerable.Range(0, 6000).Select(i => ($"a/file-{i:D4}-of-the-handheld.txt", System.Text.Encoding.ASCII.GetBytes($"f{i}"))).ToArray();
        await _store.BackupAsync(Alpha, Files([.. files, ("zz/big.bin", TestData.Bytes(99, 2_000_000))]));
        var pack1 = Assert.Single((await _store.PackFilesOnDiskAsync()));
        var a2 = await _store.BackupAsync(Alpha, Files(files));
        ChunkId[] tree;
        using (var catalog = _store.Store.OpenCatalog())
        {
            tree = catalog.GetSnapshot(a2)!.Tree;
        }

        Assert.Contains(tree, id => _store.Locate(id).PackName == pack1);

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal(1, report.PacksRepacked);
        Assert.All(tree, id => Assert.NotEqual(ChunkCompression.ZstdGroup, _store.Locate(id).Entry.Compression));
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_pack_more_than_half_live_is_left_as_it_is()
    {
        var keep = TestData.Bytes(41, 900_000);
        await _store.BackupAsync(Alpha, Files(("gone.bin", TestData.Bytes(40, 100_000)), ("keep.bin", keep)));
        var before = (await _store.PackFilesOnDiskAsync());
        var pack1 = Assert.Single(before);
        var a2 = await _store.BackupAsync(Alpha, Files(("keep.bin", keep)));
        var packs = (await _store.PackFilesOnDiskAsync());

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal((0, 0), (report.PacksDeleted, report.PacksRepacked));
        Assert.Equal(packs, (await _store.PackFilesOnDiskAsync()));
        Assert.Equal(pack1, _store.Locate((await TestStore.ChunkIdsAsync(keep))[0]).PackName);
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_dry_run_changes_nothing_yet_reports_what_a_real_run_then_removes()
    {
        var (a1, a2, a3, b1, b2) = await FiveSnapshotsAsync();
        var orphan = await WriteUnnamedPackAsync();
        var snapshots = _store.SnapshotIds();
        var files = (await PackFileContentsAsync());
        StoreTotals totals;
        using (var catalog = _store.Store.OpenCatalog())
        {
            totals = catalog.Totals();
        }

        var dry = await PruneAsync(new RetentionPolicy(KeepLast: 1), dryRun: true);

        Assert.True(dry.DryRun);
        Assert.Equal(new[] { a1, a2, b1 }.Order(), dry.Removed.Select(r => r.Id).Order());
        Assert.Equal(2, dry.SnapshotsKept);
        Assert.True(dry.PacksDeleted + dry.PacksRepacked > 0, "the dry run should find packs to delete or repack");
        Assert.Equal(1, dry.OrphanFilesDeleted);
        Assert.Equal(snapshots, _store.SnapshotIds());
        Assert.Equal(files, (await PackFileContentsAsync()));
        Assert.Contains(orphan, (await _store.PackFilesOnDiskAsync()));
        using (var catalog = _store.Store.OpenCatalog())
        {
            Assert.Equal(totals, catalog.Totals());
        }

        foreach (var id in snapshots)
        {
            await _store.AssertRestoresAsync(id);
        }

        var real = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal(dry.Removed.Select(r => r.Id), real.Removed.Select(r => r.Id));
        Assert.Equal((dry.PacksDeleted, dry.PacksRepacked, dry.OrphanFilesDeleted), (real.PacksDeleted, real.PacksRepacked, real.OrphanFilesDeleted));
        Assert.Equal(new[] { a3, b2 }.Order(), _store.SnapshotIds().Order());
    }

    [Fact]
    public async Task A_dry_run_reports_the_bytes_the_real_run_frees()
    {
        await FiveSnapshotsAsync();

        var dry = await PruneAsync(new RetentionPolicy(KeepLast: 1), dryRun: true);
        var real = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal(1, real.PacksRepacked);
        Assert.Equal(real.BytesFreed, dry.BytesFreed);
    }

    [Fact]
    public async Task Unnamed_pack_files_are_deleted_and_named_ones_stay()
    {
        var a1 = await _store.BackupAsync(Alpha, Files(("a.bin", TestData.Bytes(50, 100_000))));
        var named = (await _store.PackFilesOnDiskAsync());
        var orphan = await WriteUnnamedPackAsync();
        Assert.Contains(orphan, (await _store.PackFilesOnDiskAsync()));

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 5));

        Assert.Empty(report.Removed);
        Assert.Equal((0, 0, 1), (report.PacksDeleted, report.PacksRepacked, report.OrphanFilesDeleted));
        Assert.True(report.BytesFreed > 20_000);
        Assert.Equal(named, (await _store.PackFilesOnDiskAsync()));
        await _store.AssertRestoresAsync(a1);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_pack_left_in_staging_by_a_crash_before_its_upload_is_deleted()
    {
        var a1 = await _store.BackupAsync(Alpha, Files(("a.bin", TestData.Bytes(51, 100_000))));
        var named = (await _store.PackFilesOnDiskAsync());
        // What a host killed while writing or uploading a pack leaves: a file where packs are staged.
        var hex = Guid.NewGuid().ToString("N");
        var staged = _store.Store.Packs.StagingPathFor($"{hex[..2]}/{hex}.pack");
        Directory.CreateDirectory(Path.GetDirectoryName(staged)!);
        await File.WriteAllBytesAsync(staged, TestData.Bytes(52, 30_000));

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 5));

        Assert.Equal(1, report.OrphanFilesDeleted);
        Assert.True(report.BytesFreed >= 30_000, $"{report.BytesFreed} bytes freed");
        Assert.False(File.Exists(staged));
        Assert.Equal(named, (await _store.PackFilesOnDiskAsync()));
        await _store.AssertRestoresAsync(a1);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_chunk_shared_by_a_removed_and_a_kept_snapshot_survives()
    {
        var shared = TestData.Bytes(60, 300_000);
        var a1 = await _store.BackupAsync(Alpha, Files(("photos/shared.jpg", shared), ("photos/gone.jpg", TestData.Bytes(61, 600_000))));
        var b1 = await _store.BackupAsync(Bravo, Files(("camera/copy.jpg", shared)));
        var a2 = await _store.BackupAsync(Alpha, Files(("photos/other.jpg", TestData.Bytes(62, 100_000))));
        var sharedIds = await TestStore.ChunkIdsAsync(shared);
        var packOfShared = _store.Locate(sharedIds[0]).PackName;

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Equal([a1], report.Removed.Select(r => r.Id));
        Assert.All(sharedIds, id => Assert.True(CatalogHas(id)));
        // The pack it sat in was mostly the removed file: repacked, so the chunk moved and was verified on the way.
        Assert.Equal(1, report.PacksRepacked);
        Assert.NotEqual(packOfShared, _store.Locate(sharedIds[0]).PackName);
        Assert.All(await TestStore.ChunkIdsAsync(_store.Contents[a1]["photos/gone.jpg"]), id => Assert.False(CatalogHas(id)));
        await _store.AssertRestoresAsync(b1);
        await _store.AssertRestoresAsync(a2);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_deleted_file_stays_restorable_from_the_earlier_snapshot_that_still_has_it()
    {
        var kept = TestData.Text(60_000);
        var deletedLater = TestData.Bytes(70, 400_000);
        var day1 = await _store.BackupAsync(Alpha, Files(("docs/kept.txt", kept), ("docs/deleted-later.bin", deletedLater)), at: At(2025, 3, 1, 18));
        var day2Morning = await _store.BackupAsync(Alpha, Files(("docs/kept.txt", kept)), at: At(2025, 3, 2, 9));
        var day2Evening = await _store.BackupAsync(Alpha, Files(("docs/kept.txt", kept), ("docs/new.txt", TestData.Text(500))), at: At(2025, 3, 2, 19));

        var report = await PruneAsync(new RetentionPolicy(KeepDaily: 2));

        Assert.Equal([day2Morning], report.Removed.Select(r => r.Id));
        Assert.Equal([day1, day2Evening], _store.SnapshotIds());
        await _store.AssertRestoresAsync(day1);
        await _store.AssertRestoresAsync(day2Evening);
        await AssertChecksCleanAsync();
    }

    [Fact]
    public async Task A_suspect_snapshot_does_not_push_out_the_last_complete_one()
    {
        var complete = Enumerable.Range(0, 20).ToDictionary(i => $"files/{i:00}.txt", i => TestData.Text(1000 + i), StringComparer.Ordinal);
        var fewLeft = complete.Take(3).ToDictionary(StringComparer.Ordinal);
        var a1 = await _store.BackupAsync(Alpha, complete);
        var a2 = await _store.BackupAsync(Alpha, fewLeft);
        Assert.False(_store.Snapshot(a1).Suspect);
        Assert.True(_store.Snapshot(a2).Suspect);

        var report = await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Empty(report.Removed);
        await _store.AssertRestoresAsync(a1);
    }

    [Fact]
    public async Task Two_backups_with_most_files_gone_do_not_push_out_the_last_complete_one()
    {
        var complete = Enumerable.Range(0, 20).ToDictionary(i => $"files/{i:00}.txt", i => TestData.Text(1000 + i), StringComparer.Ordinal);
        var fewLeft = complete.Take(3).ToDictionary(StringComparer.Ordinal);
        var a1 = await _store.BackupAsync(Alpha, complete);
        await _store.BackupAsync(Alpha, fewLeft);
        await _store.BackupAsync(Alpha, fewLeft);

        await PruneAsync(new RetentionPolicy(KeepLast: 1));

        Assert.Contains(a1, _store.SnapshotIds());
        await _store.AssertRestoresAsync(a1);
    }

    private static DateTimeOffset At(int year, int month, int day, int hour) => new(year, month, day, hour, 0, 0, TimeSpan.Zero);

    /// <summary>A sealed pack the catalog never named, as a backup killed before its commit leaves one.</summary>
    private async Task<string> WriteUnnamedPackAsync()
    {
        var data = TestData.Bytes(99, 30_000);
        var pack = PackWriter.Create(_store.Store.Packs);
        await using (pack)
        {
            await pack.AppendAsync(ChunkId.Of(data), ChunkCompression.None, data, data.Length, CancellationToken.None);
            await pack.SealAsync(CancellationToken.None);
        }

        return pack.Name;
    }

    private async Task<long> PackBytesOnDiskAsync()
    {
        long total = 0;
        foreach (var pack in await _store.PackFilesOnDiskAsync())
        {
            total += await _store.PackLengthAsync(pack);
        }

        return total;
    }

    private async Task<SortedDictionary<string, string>> PackFileContentsAsync()
    {
        var contents = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var pack in await _store.PackFilesOnDiskAsync())
        {
            contents[pack] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(await _store.PackBytesAsync(pack)));
        }

        return contents;
    }
}
