using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>
/// Partial snapshots in the store: what a backup could not read is recorded with the snapshot,
/// unchanged backups verify instead of piling up, and prune keeps what only partial snapshots
/// carry forward.
/// </summary>
public sealed class PartialSnapshotsOnSqliteTests() : PartialSnapshotTests(CatalogKind.Sqlite);

public sealed class PartialSnapshotsOnPostgresTests() : PartialSnapshotTests(CatalogKind.Postgres);

public abstract class PartialSnapshotTests(CatalogKind catalog) : IAsyncLifetime
{
    private const string Device = "MX7-03";
    private readonly TempFolder _temp = new();
    private TestStore _store = null!;

    public async Task InitializeAsync() => _store = await TestStore.OpenAsync(_temp["store"], _temp.Path, catalog: catalog);

    public Task DisposeAsync()
    {
        _store?.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    private static Dictionary<string, byte[]> Files(params (string Path, byte[] Content)[] files) =>
        files.ToDictionary(f => f.Path, f => f.Content, StringComparer.Ordinal);

    [Fact]
    public async Task A_partial_snapshot_records_what_could_not_be_read_and_is_flagged()
    {
        var first = await _store.BackupAsync(Device, Files(("data/a.txt", TestData.Bytes(1, 1000))));
        var problems = new[]
        {
            new SnapshotProblem("data/forms/sub", "cannot list the folder: permission denied", Folder: true, 13, first),
            new SnapshotProblem("", "a name that cannot be stored", Folder: false, 0, null),
        };
        var partial = await _store.BackupAsync(Device, Files(("data/a.txt", TestData.Bytes(1, 1000))), problems);

        using var catalog = _store.Store.OpenCatalog();
        var info = catalog.GetSnapshot(partial)!;
        Assert.True(info.Partial);
        Assert.True(info.Flagged);
        Assert.Equal(2, info.Problems);
        Assert.Equal(problems, catalog.ListProblems(partial));
        Assert.False(catalog.GetSnapshot(first)!.Flagged);
        Assert.Empty(catalog.ListProblems(first));
        await _store.AssertRestoresAsync(partial);
    }

    [Fact]
    public async Task An_unchanged_backup_verifies_the_snapshot_before_instead_of_making_another()
    {
        var files = Files(("data/a.txt", TestData.Bytes(1, 1000)), ("data/b.bin", TestData.Bytes(2, 200_000)));
        var first = await _store.BackupAsync(Device, files);
        var before = _store.Snapshot(first);
        Assert.Null(before.Verified);

        _store.Clock.Now = _store.Clock.Now.AddHours(3);
        var outcome = await CommitAgainAsync(files, before);

        Assert.True(outcome.Unchanged);
        Assert.Equal(first, outcome.SnapshotId);
        Assert.Equal([first], _store.SnapshotIds());
        Assert.Equal(_store.Clock.Now, _store.Snapshot(first).Verified);

        // One byte different: a new snapshot after all.
        files["data/a.txt"] = TestData.Bytes(3, 1000);
        var changed = await CommitAgainAsync(files, _store.Snapshot(first));
        Assert.False(changed.Unchanged);
        Assert.Equal([first, changed.SnapshotId], _store.SnapshotIds());
    }

    [Fact]
    public void Prune_keeps_the_newest_snapshot_that_read_everything_behind_partial_ones()
    {
        var t = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        SnapshotInfo Make(long id, long problems, long files = 10) => new(id, Device, 1, "network", t.AddDays(id), t.AddDays(id), files, 100, [], Problems: problems);
        var snapshots = new[] { Make(1, 0), Make(2, 0), Make(3, 1), Make(4, 2), Make(5, 0, files: 0) };

        var keep = new RetentionPolicy(KeepLast: 1).Keep(snapshots);

        Assert.Equal([2L, 5L], keep.Keys.Order());
        Assert.Contains("last complete", keep[2]);
    }

    [Fact]
    public async Task Prune_never_removes_the_last_copy_of_a_file_only_partial_snapshots_carry_forward()
    {
        var kept = TestData.Bytes(7, 300_000);
        // 1 read x.bin; 2 read everything but no longer has x.bin under that name; 3 could not
        // read x.bin and carries 1's version of it forward (its chunks named by 3's tree only).
        var one = await _store.BackupAsync(Device, Files(("data/x.bin", kept), ("data/y.txt", TestData.Bytes(1, 500))));
        var two = await _store.BackupAsync(Device, Files(("data/y.txt", TestData.Bytes(2, 500))));
        var three = await _store.BackupAsync(Device, Files(("data/x.bin", kept), ("data/y.txt", TestData.Bytes(2, 500))),
            [new SnapshotProblem("data/x.bin", "permission denied", Folder: false, 1, one)]);

        var report = await new Pruner(_store.Store).PruneAsync(new RetentionPolicy(KeepLast: 1), dryRun: false, TimeSpan.FromSeconds(30), null, CancellationToken.None);

        Assert.Equal([one], report.Removed.Select(r => r.Id));
        Assert.Equal([two, three], _store.SnapshotIds());
        await _store.AssertRestoresAsync(three);
        var check = await new StoreChecker(_store.Store).CheckAsync(readData: true, null, CancellationToken.None);
        Assert.True(check.Ok, string.Join("\n", check.Problems.Select(p => p.Detail)));
        using var catalog = _store.Store.OpenCatalog();
        Assert.Single(catalog.ListProblems(three));
        Assert.Empty(catalog.ListProblems(one));
    }

    [Fact]
    public async Task Forget_removes_the_problems_with_the_snapshots()
    {
        var first = await _store.BackupAsync(Device, Files(("data/a.txt", TestData.Bytes(1, 100))), [new SnapshotProblem("data/b", "gone", Folder: true, 0, null)]);
        using var catalog = _store.Store.OpenCatalog();

        Assert.Equal(1, catalog.DeleteSnapshotsOf("MX7-03"));

        Assert.Empty(catalog.ListProblems(first));
        using var count = catalog.Connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM snapshot_problems";
        Assert.Equal(0L, Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
    }

    private Task<CommitOutcome> CommitAgainAsync(Dictionary<string, byte[]> files, SnapshotInfo previous) =>
        _store.CommitAsync(Device, files, problems: null, new UnchangedCandidate(previous, []));
}
