namespace Cradle.ActiveSync.Tests;

/// <summary>
/// <c>cradle host rename-device</c> with the real executables: <c>cradle host run --activesync</c>
/// in one network namespace, emulated devices as processes in another behind a veth (the USB
/// cable). The fleet case: a second handheld with the same default name is refused (P5), renamed
/// from the CLI, and partners and backs up under its new name without being unplugged.
/// </summary>
[Collection(VethCollection.Name)]
public sealed class ActiveSyncRenameEndToEndTests
{
    private const string Device = ActiveSyncEndToEndTests.Device;

    [Fact]
    public async Task P5_the_second_device_with_one_name_is_renamed_from_the_cli_and_partners_and_backs_up_without_replugging()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create();
        ActiveSyncEndToEndTests.WriteDeviceFile(temp, @"My Documents\a.txt", TestData.Bytes(61, 1_000));
        var data = temp["host"];
        using var host = CradleHostProcess.Run(cable.HostNamespace, "--data", data, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--name", "depot", "--activesync", cable.HostInterface);
        await using (await EmulatorProcess.StartAsync(cable.DeviceNamespace, ActiveSyncEndToEndTests.DeviceOptions(temp, "device", "registry.json", cable), temp["emulator.json"]))
        {
            await host.WaitForAsync("snapshot 1 committed");
        }

        Directory.CreateDirectory(Path.Combine(temp["other"], "My Documents"));
        var b = TestData.Bytes(62, 2_000);
        await File.WriteAllBytesAsync(Path.Combine(temp["other"], "My Documents", "b.txt"), b);
        await using var other = await EmulatorProcess.StartAsync(cable.DeviceNamespace, ActiveSyncEndToEndTests.DeviceOptions(temp, "other", "other-registry.json", cable), temp["other.json"]);
        await host.WaitForAsync($"refused {Device}: P5");

        // Refused before anything reaches the device: no consent, a name P1 forbids, a device not cradled.
        var (noYes, noYesOut) = await Cli(cable, "host", "rename-device", Device, "MX7_E2E_B", "--data", data);
        Assert.True(noYes == 2, $"exit {noYes}: {noYesOut}");
        Assert.Contains("--yes", noYesOut, StringComparison.Ordinal);
        var (invalid, invalidOut) = await Cli(cable, "host", "rename-device", Device, "2_bad", "--yes", "--data", data);
        Assert.True(invalid == 2, $"exit {invalid}: {invalidOut}");
        Assert.Contains("P1", invalidOut, StringComparison.Ordinal);
        var (absent, absentOut) = await Cli(cable, "host", "rename-device", "MX7_NONE", "MX7_E2E_B", "--yes", "--data", data);
        Assert.True(absent == 3, $"exit {absent}: {absentOut}");
        Assert.Equal(0, host.Count("renaming "));

        var (exit, output) = await Cli(cable, "host", "rename-device", Device, "MX7_E2E_B", "--yes", "--json", "--data", data);

        Assert.True(exit == 0, output);
        Assert.Contains("\"newName\": \"MX7_E2E_B\"", output, StringComparison.Ordinal);
        // The host triggers the device again; it partners under the new name and backs up, still cradled.
        await host.WaitForAsync("new partnership with MX7_E2E_B");
        await host.WaitForAsync("snapshot 2 committed");
        Assert.Equal(0, await other.CounterAsync("carrier-lost"));
        var (_, snapshots) = await CradleHostProcess.CommandAsync("host", "snapshots", "MX7_E2E_B", "--data", data, "--json");
        Assert.Single(snapshots.Split("\"id\"", StringSplitOptions.None).Skip(1));
        var target = temp["restored"];
        var (restoreExit, restoreOut) = await CradleHostProcess.CommandAsync("host", "restore", "MX7_E2E_B", "--to", target, "--data", data);
        Assert.True(restoreExit == 0, restoreOut);
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(target, "My Documents", "b.txt")));
    }

    private static async Task<(int Exit, string Output)> Cli(VethCable cable, params string[] arguments) =>
        await CradleHostProcess.CommandInNamespaceAsync(cable.HostNamespace, arguments);
}
