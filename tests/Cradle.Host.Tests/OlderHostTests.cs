using Cradle.Content;
using Cradle.Device;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>
/// A device of this build and a host that speaks only protocol version 1 (as release 0.4 did):
/// the device states its range, the host answers in version 1, and the device speaks it —
/// no <c>PartnershipStored</c>, which such a host does not know.
/// </summary>
public sealed class OlderHostTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public async Task A_device_of_this_build_pairs_and_backs_up_twice_through_a_version_1_host()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "old-host", o => o with { NewestProtocolVersion = 1 });
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "scan.log"), "pallet 1 scanned ok\n");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-NEW", [data]);

        var first = await host.BackUpAsync(state);
        File.AppendAllText(Path.Combine(data, "scan.log"), "pallet 2 scanned ok\n");
        var second = await host.BackUpAsync(state);

        Assert.True(second.SnapshotId > first.SnapshotId);
        using var registry = PartnershipRegistry.Open(host.Store.Database);
        var record = Assert.Single(registry.List());
        Assert.Equal(("MX7-NEW", true), (record.Name, record.Confirmed));
        Assert.Equal(record.Number, Assert.Single(state.LoadPartnerships().Slots).Number);
    }

    [Fact]
    public async Task Through_a_version_2_host_what_could_not_be_read_is_left_out_and_the_backup_still_says_partial()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "v2-host", o => o with { NewestProtocolVersion = 2 });
        var data = _temp["data"];
        var gone = _temp["gone"];
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(gone);
        File.WriteAllText(Path.Combine(data, "scan.log"), "pallet 1 scanned ok\n");
        File.WriteAllText(Path.Combine(gone, "form.xml"), "<form/>");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-V2", [data, gone]);
        Assert.False((await host.BackUpAsync(state)).Partial);

        Directory.Delete(gone, recursive: true);
        var second = await host.BackUpAsync(state);

        // Such a host would store a problem entry as an empty file: it gets none, and cannot keep
        // the earlier version; the device does not pretend the backup was whole.
        Assert.True(second.Partial);
        Assert.False(second.HostKeptEarlierVersions);
        Assert.Contains("cannot keep earlier versions", second.Note, StringComparison.Ordinal);
        using var catalog = host.Store.OpenCatalog();
        var snapshot = catalog.GetSnapshot(second.SnapshotId)!;
        Assert.Equal((1L, false), (snapshot.Files, snapshot.Partial));
    }

    [Fact]
    public async Task A_version_3_host_keeps_the_earlier_version_of_a_data_folder_that_is_gone()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "v3-host");
        var data = _temp["data"];
        var gone = _temp["gone"];
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(Path.Combine(gone, "sub"));
        File.WriteAllText(Path.Combine(data, "scan.log"), "pallet 1 scanned ok\n");
        File.WriteAllText(Path.Combine(gone, "sub", "form.xml"), "<form/>");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-V3", [data, gone]);
        var first = await host.BackUpAsync(state);

        Directory.Delete(gone, recursive: true);
        var second = await host.BackUpAsync(state);

        Assert.True(second.Partial);
        Assert.True(second.HostKeptEarlierVersions);
        Assert.Equal((3L, 2L), (second.CarriedForward, second.SnapshotFiles));
        using var reader = host.Store.OpenReader();
        var tree = await reader.LoadTreeAsync(reader.Catalog.GetSnapshot(second.SnapshotId)!, CancellationToken.None);
        var before = await reader.LoadTreeAsync(reader.Catalog.GetSnapshot(first.SnapshotId)!, CancellationToken.None);
        static IEnumerable<string> Gone(IEnumerable<Content.TreeEntry> entries) =>
            entries.Where(e => e.Path.StartsWith("gone", StringComparison.Ordinal)).Select(e => $"{e.Path} {e.Kind} {e.Size} {e.MtimeUnixNs} {string.Join(",", e.Chunks)}");
        Assert.Equal(Gone(before), Gone(tree));
        Assert.Equal(3, Gone(tree).Count());
        var problem = Assert.Single(reader.Catalog.ListProblems(second.SnapshotId));
        Assert.Equal(("gone", true, 3L, first.SnapshotId), (problem.Path, problem.Folder, problem.CarriedForward, problem.FromSnapshot));

        // The same again: nothing new, the partial snapshot verified, not repeated.
        var third = await host.BackUpAsync(state);
        Assert.True(third.Unchanged);
        Assert.Equal(second.SnapshotId, third.SnapshotId);
        Assert.True(third.Partial);
    }

    [Fact]
    public async Task A_name_no_snapshot_can_hold_is_a_problem_without_a_path()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var host = await LoopbackHost.StartAsync(_temp["host"], "v3-host");
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "scan.log"), "fine\n");
        File.WriteAllText(Path.Combine(data, "back\\slash.txt"), "a name Linux allows and snapshots do not");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-NAMES", [data]);

        var backup = await host.BackUpAsync(state);

        Assert.True(backup.Partial);
        using var catalog = host.Store.OpenCatalog();
        var problem = Assert.Single(catalog.ListProblems(backup.SnapshotId));
        Assert.Equal("", problem.Path);
        Assert.Contains("back\\slash.txt: not backed up, its name cannot be stored", problem.Reason, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
