using Cradle.Content;
using Cradle.Device;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>
/// Issue 21: the host's façade over its store, which the CLI's commands go through (devices,
/// snapshots, restore, check, prune): a real host backs up a real device, then the façade opens
/// the stopped host's folder as the operator's commands do.
/// </summary>
public sealed class HostRepositoryTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public async Task A_folder_that_holds_no_store_is_refused_naming_where_its_name_came_from_and_nothing_is_made()
    {
        var folder = _temp["nothing-here"];
        var location = new StoreLocation(folder, FolderOrigin: "--data (from the test)");

        var e = await Assert.ThrowsAsync<ArgumentException>(() => HostRepository.OpenAsync(location, readsPacks: true, CancellationToken.None));

        Assert.Equal($"{folder} holds no Cradle host: there is no cradle.db in it; check --data (from the test). Only 'cradle host run --data {folder}' makes a new one", e.Message);
        Assert.False(File.Exists(Path.Combine(folder, "cradle.db")));
    }

    [Fact]
    public async Task Snapshots_are_listed_found_restored_byte_for_byte_checked_and_pruned_through_the_facade()
    {
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        File.WriteAllBytes(Path.Combine(data, "scan.bin"), TestData.Bytes(1, 300_000));
        File.WriteAllText(Path.Combine(data, "notes.txt"), "first");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-FACADE", [data]);
        BackupResult first;
        BackupResult second;
        await using (var host = await LoopbackHost.StartAsync(_temp["host"], "depot"))
        {
            first = await host.BackUpAsync(state);
            File.WriteAllText(Path.Combine(data, "notes.txt"), "second, longer");
            second = await host.BackUpAsync(state);
        }

        var device = DeviceName.Parse("mx7-facade");
        using var store = await HostRepository.OpenAsync(new StoreLocation(_temp["host"]), readsPacks: true, CancellationToken.None);
        Assert.Equal(_temp["host"], store.Folder);
        Assert.Equal("MX7-FACADE", store.RequireDevice(device));
        Assert.Equal(["MX7-FACADE"], store.Devices(HostReports.DefaultOverdueAfter, DateTimeOffset.UtcNow).Select(d => d.Name));
        Assert.Equal([first.SnapshotId, second.SnapshotId], store.Snapshots(device).Select(s => s.Id));
        Assert.Throws<UnknownDeviceException>(() => store.RequireDevice(DeviceName.Parse("NOBODY")));

        // The latest unless an id is given; an id of no snapshot, or none of this device's, is refused.
        Assert.Equal(second.SnapshotId, store.FindSnapshot(device, null).Id);
        Assert.Equal(first.SnapshotId, store.FindSnapshot(device, first.SnapshotId).Id);
        Assert.Equal($"there is no snapshot {second.SnapshotId + 100}", Assert.Throws<ArgumentException>(() => store.FindSnapshot(device, second.SnapshotId + 100)).Message);
        Assert.Equal($"snapshot {first.SnapshotId} belongs to MX7-FACADE, not OTHER", Assert.Throws<ArgumentException>(() => store.FindSnapshot(DeviceName.Parse("OTHER"), first.SnapshotId)).Message);

        var target = _temp["restored"];
        var bytes = new List<long>();
        var dry = await store.RestoreAsync(second.SnapshotId, target, overwrite: false, dryRun: true, null, CancellationToken.None);
        Assert.True(dry.DryRun);
        Assert.Equal(2, dry.Files);
        Assert.False(Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any());
        var restored = await store.RestoreAsync(second.SnapshotId, target, overwrite: false, dryRun: false, new Inline(bytes), CancellationToken.None);
        Assert.Equal(2, restored.Files);
        Assert.Equal(second.Bytes, restored.Bytes);
        Assert.Equal(second.Bytes, bytes[^1]);
        Assert.Empty(TreeComparer.Compare(data, Path.Combine(target, state.LoadIdentity().Folders[0].Label)));

        var check = await store.CheckAsync(readData: true, null, CancellationToken.None);
        Assert.True(check.Ok);
        Assert.Equal(2, check.Snapshots);
        Assert.Empty(check.Problems);

        // Keep the last one: the plan names the first snapshot, the real run removes exactly it.
        var plan = await store.PruneAsync(new KeepPolicy(KeepLast: 1), dryRun: true, TimeSpan.FromSeconds(10), null, CancellationToken.None);
        Assert.True(plan.DryRun);
        Assert.Equal([first.SnapshotId], plan.Removed.Select(r => r.Id));
        Assert.Equal(2, store.Snapshots(device).Count);
        var pruned = await store.PruneAsync(new KeepPolicy(KeepLast: 1), dryRun: false, TimeSpan.FromSeconds(10), null, CancellationToken.None, plan.Removed.Select(r => r.Id).ToHashSet());
        Assert.Equal([first.SnapshotId], pruned.Removed.Select(r => r.Id));
        Assert.Equal([second.SnapshotId], store.Snapshots(device).Select(s => s.Id));
        Assert.True((await store.CheckAsync(readData: true, null, CancellationToken.None)).Ok);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Hears progress on the reporting thread (no synchronization context to post to).</summary>
    private sealed class Inline(List<long> heard) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (heard)
            {
                heard.Add(value);
            }
        }
    }
}
