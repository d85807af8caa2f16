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
        await using var host = LoopbackHost.Start(_temp["host"], "old-host", o => o with { NewestProtocolVersion = 1 });
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

    public void Dispose() => _temp.Dispose();
}
