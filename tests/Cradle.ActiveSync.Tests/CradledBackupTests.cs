namespace Cradle.ActiveSync.Tests;

/// <summary>A device left in its cradle is backed up again on the host's schedule, not only when it is plugged in again.</summary>
public sealed class CradledBackupTests
{
    [Fact]
    public async Task A_device_left_in_its_cradle_is_backed_up_again_without_reconnecting_and_a_change_is_stored()
    {
        await using var rig = await HostRig.StartAsync(backupEvery: TimeSpan.FromMilliseconds(300));
        var device = rig.Device("MX7_R", "r");
        HostBackupTests.Write(device, @"My Documents\orders.csv", TestData.Bytes(71, 2_000));
        Assert.Equal("connected", await rig.SyncAsync(device));
        Assert.Single(rig.Snapshots("MX7_R"));

        // Still cradled: a changed file is stored by a later backup on the same connection.
        var changed = HostBackupTests.Write(device, @"My Documents\orders.csv", TestData.Bytes(72, 2_500), new DateTime(2024, 6, 1, 8, 0, 0, DateTimeKind.Utc));
        await LoopbackRig.WaitForAsync(() => rig.Snapshots("MX7_R").Count == 2, "a second snapshot while the device stays cradled");

        Assert.Equal(1, device.Counters.ControlConnections);
        Assert.True(device.IsConnected);
        var restored = await rig.RestoreAsync(rig.Snapshots("MX7_R")[^1]);
        Assert.Equal(changed, await File.ReadAllBytesAsync(Path.Combine(restored, "My Documents", "orders.csv")));

        // Unchanged meanwhile: later backups are listings only (no snapshot, no read).
        var reads = device.Counters.ReadFileCalls;
        var listings = device.Counters["CeFindAllFiles"];
        await LoopbackRig.WaitForAsync(() => device.Counters["CeFindAllFiles"] >= listings + 4, "two more backups by listings");
        Assert.Equal(reads, device.Counters.ReadFileCalls);
        Assert.Equal(2, rig.Snapshots("MX7_R").Count);
    }

}
