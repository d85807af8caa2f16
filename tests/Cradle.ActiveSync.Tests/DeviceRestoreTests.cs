using Cradle.ActiveSync.Emulator;
using Cradle.Host;
using Cradle.Host.ActiveSync;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// Restore onto a cradled device, in one process: the real host service and an emulated device
/// over loopback TCP; the restore runs on the device's live session, the way
/// <c>cradle host restore DEVICE --to-device</c> asks the running host for it.
/// </summary>
public sealed class DeviceRestoreTests
{
    private static readonly DateTime Monday = new(2024, 3, 4, 9, 15, 30, DateTimeKind.Utc);
    private static readonly DateTime Tuesday = Monday.AddDays(1);

    [Fact]
    public async Task A_snapshot_is_restored_onto_the_device_byte_exact_with_its_times_through_temporary_names()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_R", "r");
        var a = HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(1, 1_000), Monday);
        var b = HostBackupTests.Write(device, @"My Documents\scans\deep\b.bin", TestData.Bytes(2, 300_000), Tuesday);
        Assert.Equal("connected", await rig.SyncAsync(device));

        // What a user loses: a folder gone, a file overwritten with something else.
        Directory.Delete(DevicePath(device, @"My Documents\scans"), recursive: true);
        HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(3, 50), Tuesday.AddDays(3));

        var result = await RestoreAsync(rig, "MX7_R");

        Assert.True(result.Complete, result.Describe());
        Assert.Equal(2, result.Files);
        Assert.Equal(a.Length + b.Length, result.Bytes);
        Assert.True(result.TimesSet);
        Assert.Equal("partnered", result.Standing);
        Assert.Equal(a, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\a.txt")));
        Assert.Equal(b, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\scans\deep\b.bin")));
        Assert.Equal(Monday, File.GetLastWriteTimeUtc(DevicePath(device, @"My Documents\a.txt")));
        Assert.Equal(Tuesday, File.GetLastWriteTimeUtc(DevicePath(device, @"My Documents\scans\deep\b.bin")));
        Assert.True(device.Counters["CeMoveFile"] >= 2);
        Assert.Empty(Directory.GetFiles(device.FileSystem.Root, DeviceRestoreResult.TempName, SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_path_restores_only_that_part_of_the_snapshot()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_S", "s");
        HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(4, 1_000), Monday);
        var b = HostBackupTests.Write(device, @"My Documents\scans\b.bin", TestData.Bytes(5, 2_000), Monday);
        Assert.Equal("connected", await rig.SyncAsync(device));
        File.Delete(DevicePath(device, @"My Documents\a.txt"));
        File.Delete(DevicePath(device, @"My Documents\scans\b.bin"));

        var result = await RestoreAsync(rig, "MX7_S", path: "My Documents/scans");

        Assert.True(result.Complete, result.Describe());
        Assert.Equal(1, result.Files);
        Assert.Equal(b, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\scans\b.bin")));
        Assert.False(File.Exists(DevicePath(device, @"My Documents\a.txt")));
        await Assert.ThrowsAsync<ArgumentException>(() => RestoreAsync(rig, "MX7_S", path: "My Documents/nothing-here"));
    }

    [Fact]
    public async Task P6_P7_a_cold_booted_device_is_restored_without_partnering_again_and_its_registry_is_left_alone()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_T", "t");
        var a = HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(6, 5_000), Monday);
        Assert.Equal("connected", await rig.SyncAsync(device));
        await rig.UnplugAsync(device);
        var number = rig.Record("MX7_T")!.Number;

        // The cold boot loses the partnership slot (and here the user's files too).
        Assert.Equal(1, device.ColdBoot());
        File.Delete(DevicePath(device, @"My Documents\a.txt"));
        var outcome = await rig.SyncAsync(device);
        Assert.StartsWith("refused (P5)", outcome, StringComparison.Ordinal);

        var result = await RestoreAsync(rig, "MX7_T");

        Assert.True(result.Complete, result.Describe());
        Assert.Equal("not-partnered", result.Standing);
        Assert.Equal(a, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\a.txt")));
        Assert.Equal(Monday, File.GetLastWriteTimeUtc(DevicePath(device, @"My Documents\a.txt")));
        Assert.Equal(number, rig.Record("MX7_T")!.Number);
        Assert.False(device.Registry.KeyExists(EmulatedRegistry.PartnersPath + @"\P1"));
    }

    [Fact]
    public async Task A_cable_pulled_mid_restore_leaves_no_half_file_under_its_real_name_and_the_restore_says_it_was_interrupted()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_U", "u");
        var big = HostBackupTests.Write(device, @"My Documents\big.bin", TestData.Bytes(7, 2_000_000), Monday);
        Assert.Equal("connected", await rig.SyncAsync(device));
        var first = Assert.Single(rig.Snapshots("MX7_U")).Id;
        var older = HostBackupTests.Write(device, @"My Documents\big.bin", TestData.Bytes(8, 10_000), Tuesday);
        device.Faults.VanishAfterWriteBytes = 700_000;

        var result = await RestoreAsync(rig, "MX7_U");

        Assert.False(result.Complete);
        Assert.NotNull(result.Interrupted);
        Assert.Contains("big.bin", result.Interrupted, StringComparison.Ordinal);
        Assert.Equal(0, result.Files);
        // The real name still holds what it held; the bytes that crossed are in the temporary file only.
        Assert.Equal(older, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\big.bin")));
        var temp = Assert.Single(Directory.GetFiles(device.FileSystem.Root, DeviceRestoreResult.TempName, SearchOption.AllDirectories));
        Assert.InRange(new FileInfo(temp).Length, 1, big.Length - 1);

        // The next connection's restore finishes, and clears the leftover.
        device.Faults.VanishAfterWriteBytes = 0;
        device.Return();
        await LoopbackRig.WaitForAsync(() => rig.Host.Sessions.Snapshot().Live.All(s => s.Link != "activesync"), "the vanished device's session to end");
        Assert.Equal("connected", await rig.SyncAsync(device));
        var again = await RestoreAsync(rig, "MX7_U", snapshot: first);
        Assert.True(again.Complete, again.Describe());
        Assert.Equal(big, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\big.bin")));
        Assert.Empty(Directory.GetFiles(device.FileSystem.Root, DeviceRestoreResult.TempName, SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_path_the_device_cannot_hold_is_refused_by_name_and_the_rest_is_restored_but_not_called_complete()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_V", "v");
        // Names a Linux folder holds but Windows CE reserves: a snapshot may carry them.
        HostBackupTests.Write(device, @"My Documents\CON.txt", TestData.Bytes(9, 100), Monday);
        HostBackupTests.Write(device, @"My Documents\trailing.", TestData.Bytes(10, 100), Monday);
        var ok = HostBackupTests.Write(device, @"My Documents\ok.txt", TestData.Bytes(11, 100), Monday);
        Assert.Equal("connected", await rig.SyncAsync(device));
        File.Delete(DevicePath(device, @"My Documents\CON.txt"));
        File.Delete(DevicePath(device, @"My Documents\trailing."));
        File.Delete(DevicePath(device, @"My Documents\ok.txt"));

        var result = await RestoreAsync(rig, "MX7_V");

        Assert.False(result.Complete);
        Assert.Equal(1, result.Files);
        Assert.Equal(ok, await File.ReadAllBytesAsync(DevicePath(device, @"My Documents\ok.txt")));
        Assert.Contains(result.Failed, f => f.Path == "My Documents/CON.txt" && f.Reason.Contains("reserved", StringComparison.Ordinal));
        Assert.Contains(result.Failed, f => f.Path == "My Documents/trailing." && f.Reason.Contains("dot", StringComparison.Ordinal));
        Assert.False(File.Exists(DevicePath(device, @"My Documents\CON.txt")));
    }

    [Fact]
    public async Task A_device_that_is_not_connected_or_a_guest_is_refused_with_the_reason()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_W", "w");
        HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(12, 100), Monday);
        Assert.Equal("connected", await rig.SyncAsync(device));
        await rig.UnplugAsync(device);

        var absent = await Assert.ThrowsAsync<ActiveSyncDeviceUnavailableException>(() => RestoreAsync(rig, "MX7_W"));
        Assert.Contains("is connected to this host now", absent.Message, StringComparison.Ordinal);

        // Both slots taken by other hosts: a guest (P3), restored only with the operator's consent.
        var partners = EmulatedRegistry.PartnersPath;
        device.Registry.Set(partners + @"\P1", "PId", RegistryValueJson.FromDWord(0x1111_1111));
        device.Registry.Set(partners + @"\P1", "PName", RegistryValueJson.String("OFFICE"));
        device.Registry.Set(partners + @"\P2", "PId", RegistryValueJson.FromDWord(0x2222_2222));
        device.Registry.Set(partners + @"\P2", "PName", RegistryValueJson.String("HOME"));
        Assert.StartsWith("refused (P3)", await rig.SyncAsync(device), StringComparison.Ordinal);
        var guest = await Assert.ThrowsAsync<ActiveSyncDeviceUnavailableException>(() => RestoreAsync(rig, "MX7_W"));
        Assert.Contains("--allow-guest", guest.Message, StringComparison.Ordinal);
        File.Delete(DevicePath(device, @"My Documents\a.txt"));

        var allowed = await RestoreAsync(rig, "MX7_W", allowGuest: true);

        Assert.True(allowed.Complete, allowed.Describe());
        Assert.Equal("guest", allowed.Standing);
        Assert.True(File.Exists(DevicePath(device, @"My Documents\a.txt")));
    }

    private static Task<DeviceRestoreResult> RestoreAsync(HostRig rig, string device, string? path = null, bool allowGuest = false, long? snapshot = null) =>
        rig.Host.RestoreToActiveSyncDeviceAsync(DeviceName.Parse(device), snapshot, path, allowGuest, null, CancellationToken.None).WaitAsync(HostRig.Patience);

    private static string DevicePath(EmulatedDevice device, string devicePath) => Path.Combine([device.FileSystem.Root, .. devicePath.Split('\\')]);
}
