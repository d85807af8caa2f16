namespace Cradle.ActiveSync.Tests;

/// <summary>
/// <c>cradle host restore DEVICE --to-device</c> with the real executables: <c>cradle host run
/// --activesync</c> in one network namespace, the emulated device process in another behind an
/// 8 Mbit/s veth (the USB cable), and the restore command asking the running host's API.
/// </summary>
[Collection(VethCollection.Name)]
public sealed class ActiveSyncRestoreEndToEndTests
{
    private const string Device = ActiveSyncEndToEndTests.Device;
    private static readonly DateTime Monday = new(2024, 3, 4, 9, 15, 30, DateTimeKind.Utc);
    private static readonly DateTime May = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    [Fact]
    public async Task A_cold_booted_device_is_restored_from_the_cli_and_a_cable_pulled_mid_restore_exits_failed_with_no_half_file()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create(rate: "8mbit");
        var files = new Dictionary<string, (byte[] Content, DateTime Time)>
        {
            [@"My Documents\big.bin"] = (TestData.Bytes(51, 3_000_000), May),
            [@"My Documents\orders.csv"] = (TestData.Bytes(52, 20_000), Monday),
        };
        foreach (var (path, (content, time)) in files)
        {
            ActiveSyncEndToEndTests.WriteDeviceFile(temp, path, content, time);
        }

        await using var emulator = await EmulatorProcess.StartAsync(cable.DeviceNamespace, ActiveSyncEndToEndTests.DeviceOptions(temp, "device", "registry.json", cable), temp["emulator.json"]);
        var data = temp["host"];
        using var host = CradleHostProcess.Run(cable.HostNamespace, "--data", data, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--name", "depot", "--activesync", cable.HostInterface);
        await host.WaitForAsync("snapshot 1 committed");

        // A cold boot: the partnership slot and the user's files are gone; the host refuses to partner (P5/P7).
        await emulator.SendAsync("cold-boot");
        Directory.Delete(Path.Combine(temp["device"], "My Documents"), recursive: true);
        Directory.CreateDirectory(Path.Combine(temp["device"], "My Documents"));
        await host.WaitForAsync($"refused {Device}: P5");

        // The cable pulled while big.bin is being written: the command fails, no big.bin on the device.
        var cut = CradleHostProcess.CommandInNamespaceAsync(cable.HostNamespace, "host", "restore", Device, "--to-device", "--data", data);
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("file-bytes-received") > 500_000, "a part of big.bin to cross the cable");
        cable.Unplug();
        var (cutExit, cutOutput) = await cut;
        // Exit 4 (link failed) whichever the host saw first: the interface going down, or a call on the dead link.
        Assert.True(cutExit == 4, $"exit {cutExit}: {cutOutput}");
        Assert.Contains("temporary name", cutOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(temp["device"], "My Documents", "big.bin")));
        var leftover = Path.Combine(temp["device"], "My Documents", Host.ActiveSync.DeviceRestoreResult.TempName);
        Assert.InRange(new FileInfo(leftover).Length, 1, files[@"My Documents\big.bin"].Content.Length - 1);

        // Cable in: still refused as a partner, and the restore now finishes, byte-exact with the times.
        cable.Plug();
        await host.WaitForAsync($"refused {Device}: P5", 2);
        var (exit, output) = await CradleHostProcess.CommandInNamespaceAsync(cable.HostNamespace, "host", "restore", Device, "--to-device", "--data", data);
        Assert.True(exit == 0, output);
        Assert.Contains("restored snapshot 1", output, StringComparison.Ordinal);
        Assert.Contains("not-partnered", output, StringComparison.Ordinal);
        foreach (var (path, (content, time)) in files)
        {
            var onDevice = Path.Combine([temp["device"], .. path.Split('\\')]);
            Assert.Equal(content, await File.ReadAllBytesAsync(onDevice));
            Assert.Equal(time, File.GetLastWriteTimeUtc(onDevice));
        }

        Assert.False(File.Exists(leftover));
    }
}
