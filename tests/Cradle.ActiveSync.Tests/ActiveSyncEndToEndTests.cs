using Cradle.ActiveSync.Emulator;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The real <c>cradle host run --activesync IFACE</c> in one network namespace, the emulated device
/// as its own process in another, a veth pair between them as the USB cable: the host triggers the
/// device on UDP 5679, the device connects to TCP 990, and what the host stored is checked with
/// the real <c>cradle host restore</c> and <c>cradle host check</c>.
/// </summary>
[Collection(VethCollection.Name)]
public sealed class ActiveSyncEndToEndTests
{
    internal const string Device = "MX7_E2E";

    [Fact]
    public async Task Host_run_backs_up_a_cradled_device_byte_exact_verifies_it_unchanged_by_listings_reads_only_a_changed_file_and_survives_a_cable_pulled_mid_file()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create(rate: "8mbit");
        var files = new Dictionary<string, byte[]>
        {
            [@"My Documents\orders.csv"] = TestData.Bytes(31, 20_000),
            [@"My Documents\scans\0001.bin"] = TestData.Bytes(32, 400_000),
            [@"Storage Card\log.txt"] = TestData.Bytes(33, 3_000),
        };
        foreach (var (path, content) in files)
        {
            WriteDeviceFile(temp, path, content);
        }

        await using var emulator = await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, "device", "registry.json", cable), temp["emulator.json"]);
        var data = temp["host"];
        using var host = CradleHostProcess.Run(cable.HostNamespace, "--data", data, "--listen", "127.0.0.1:0", "--http", "off", "--name", "depot", "--activesync", cable.HostInterface);

        // First backup: everything, byte-exact through the real restore.
        await host.WaitForAsync("snapshot 1 committed");
        await AssertRestoredAsync(temp, data, files);
        var (devicesExit, devices) = await CradleHostProcess.CommandAsync("host", "devices", "--data", data, "--json");
        Assert.Equal(0, devicesExit);
        Assert.Contains(Device, devices, StringComparison.Ordinal);
        Assert.Contains("activesync", devices, StringComparison.Ordinal);
        var reads = await emulator.CounterAsync("CeReadFile");
        var sent = await emulator.CounterAsync("file-bytes-sent");

        // Unchanged: the cable out and in again, a new session, no file read.
        await ReplugAsync(cable, emulator, host, 1);
        await host.WaitForAsync("nothing changed since snapshot 1");
        Assert.Equal(reads, await emulator.CounterAsync("CeReadFile"));
        Assert.Equal(sent, await emulator.CounterAsync("file-bytes-sent"));

        // One file changed: only its bytes cross the cable.
        files[@"My Documents\orders.csv"] = TestData.Bytes(34, 21_000);
        WriteDeviceFile(temp, @"My Documents\orders.csv", files[@"My Documents\orders.csv"], new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        await ReplugAsync(cable, emulator, host, 2);
        await host.WaitForAsync("snapshot 2 committed");
        Assert.Equal(sent + 21_000, await emulator.CounterAsync("file-bytes-sent"));
        await AssertRestoredAsync(temp, data, files);

        // The cable pulled in the middle of a file: no snapshot, nothing half-committed, the store checks clean.
        files[@"My Documents\big.bin"] = TestData.Bytes(35, 5_000_000);
        WriteDeviceFile(temp, @"My Documents\big.bin", files[@"My Documents\big.bin"]);
        var before = await emulator.CounterAsync("file-bytes-sent");
        await ReplugAsync(cable, emulator, host, 3);
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("file-bytes-sent") > before + 1_000_000, "a part of big.bin to cross the cable");
        cable.Unplug();
        await host.WaitForAsync("went down (cable out)", 4);
        Assert.Equal(2, host.Count(" committed: "));
        var (checkExit, check) = await CradleHostProcess.CommandAsync("host", "check", "--data", data);
        Assert.True(checkExit == 0, check);
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("carrier-lost") >= 4, "the device to lose its carrier");

        // The next session finishes it.
        cable.Plug();
        await host.WaitForAsync("snapshot 3 committed");
        await AssertRestoredAsync(temp, data, files);
    }

    [Fact]
    public async Task P5_a_second_device_with_a_partnered_name_on_the_same_cable_is_refused_with_the_reason_on_the_console_and_nothing_written()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create();
        WriteDeviceFile(temp, @"My Documents\a.txt", TestData.Bytes(41, 1_000));
        var data = temp["host"];
        using var host = CradleHostProcess.Run(cable.HostNamespace, "--data", data, "--listen", "127.0.0.1:0", "--http", "off", "--name", "depot", "--activesync", cable.HostInterface);
        await using (await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, "device", "registry.json", cable), temp["emulator.json"]))
        {
            await host.WaitForAsync("snapshot 1 committed");
        }

        // Another handheld with the same default name takes the cable.
        Directory.CreateDirectory(Path.Combine(temp["other"], "My Documents"));
        await File.WriteAllBytesAsync(Path.Combine(temp["other"], "My Documents", "b.txt"), TestData.Bytes(42, 1_000));
        await using (var other = await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, "other", "other-registry.json", cable), temp["other.json"]))
        {
            await host.WaitForAsync($"refused {Device}: P5");
            Assert.Equal(0, await other.CounterAsync("CeReadFile"));
        }

        Assert.Contains("rename this device", host.Output, StringComparison.Ordinal);
        Assert.False(new EmulatedRegistry(temp["other-registry.json"], Device).KeyExists(EmulatedRegistry.PartnersPath + @"\P1"));
        var (_, snapshots) = await CradleHostProcess.CommandAsync("host", "snapshots", Device, "--data", data, "--json");
        Assert.Single(snapshots.Split("\"id\"", StringSplitOptions.None).Skip(1));
    }

    private static async Task ReplugAsync(VethCable cable, EmulatorProcess emulator, CradleHostProcess host, int times)
    {
        cable.Unplug();
        await host.WaitForAsync("went down (cable out)", times);
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("carrier-lost") >= times, "the device to lose its carrier");
        cable.Plug();
    }

    private static async Task AssertRestoredAsync(TempFolder temp, string data, Dictionary<string, byte[]> files)
    {
        var target = temp[$"restore-{Guid.NewGuid():N}"];
        var (exit, output) = await CradleHostProcess.CommandAsync("host", "restore", Device, "--to", target, "--data", data);
        Assert.True(exit == 0, output);
        foreach (var (path, content) in files)
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine([target, .. path.Split('\\')])));
        }

        Assert.Equal(files.Count, Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Count());
    }

    internal static EmulatorOptions DeviceOptions(TempFolder temp, string folder, string registry, VethCable cable) => new()
    {
        FilesRoot = temp[folder],
        RegistryFile = temp[registry],
        Name = Device,
        StorageCards = ["Storage Card"],
        HostAddress = VethCable.HostAddress,
        HostPort = Dccm.ActiveSyncListener.DccmPort,
        TriggerAddress = VethCable.DeviceAddress,
        TriggerPort = Dccm.ActiveSyncListener.TriggerPort,
        CarrierInterface = cable.DeviceInterface,
    };

    internal static void WriteDeviceFile(TempFolder temp, string relative, byte[] content, DateTime? lastWriteUtc = null)
    {
        var path = temp[Path.Combine(["device", .. relative.Split('\\')])];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, lastWriteUtc ?? new DateTime(2024, 3, 4, 9, 15, 30, DateTimeKind.Utc));
    }
}
