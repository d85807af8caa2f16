using Cradle.ActiveSync.Emulator;
using Cradle.Host.ActiveSync;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// <c>cradle host run --activesync auto</c>: interfaces whose driver is a cradled device's
/// (rndis_host, cdc_ether) are watched from when they appear until they go. A veth has no driver
/// link in sysfs, so the end-to-end test gives the host a made-up sysfs tree
/// (<c>CRADLE_SYSFS_ROOT</c>) that names rndis_host for the veth's name; the interface itself is real.
/// </summary>
[Collection(VethCollection.Name)]
public sealed class ActiveSyncAutoTests
{
    private const string Device = "MX7_AUTO";

    [Fact]
    public void Only_interfaces_bound_to_rndis_host_or_cdc_ether_are_a_cradled_device()
    {
        using var temp = new TempFolder();
        var sys = temp["sys"];
        FakeDriver(sys, "usb0", "rndis_host");
        FakeDriver(sys, "enx0050b6", "cdc_ether");
        FakeDriver(sys, "eth0", "e1000e");
        FakeDriver(sys, "wwan0", "rndis_wlan");
        Directory.CreateDirectory(Path.Combine(sys, "class", "net", "veth0")); // virtual: no device link

        Assert.Equal("rndis_host", ActiveSyncDrivers.Match(sys, "usb0", ActiveSyncDrivers.Cradled));
        Assert.Equal("cdc_ether", ActiveSyncDrivers.Match(sys, "enx0050b6", ActiveSyncDrivers.Cradled));
        Assert.Null(ActiveSyncDrivers.Match(sys, "eth0", ActiveSyncDrivers.Cradled));
        Assert.Null(ActiveSyncDrivers.Match(sys, "wwan0", ActiveSyncDrivers.Cradled));
        Assert.Null(ActiveSyncDrivers.Match(sys, "veth0", ActiveSyncDrivers.Cradled));
        Assert.Null(ActiveSyncDrivers.Match(sys, "missing", ActiveSyncDrivers.Cradled));
        Assert.Null(ActiveSyncDrivers.Match(sys, "..", ActiveSyncDrivers.Cradled));
        Assert.Null(ActiveSyncDrivers.Match(sys, "usb0/../eth0", ActiveSyncDrivers.Cradled));
    }

    [Fact]
    public async Task Host_run_with_auto_backs_up_a_device_whose_interface_appears_and_drops_the_interface_when_it_goes()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create();
        cable.Remove(); // nothing cradled yet
        var sys = temp["sys"];
        FakeDriver(sys, cable.HostInterface, "rndis_host");
        FakeDriver(sys, "lo", "e1000e"); // a real interface whose driver is not a cradle's: never watched
        var device = temp["device"];
        Directory.CreateDirectory(Path.Combine(device, "My Documents"));
        var content = TestData.Bytes(61, 30_000);
        await File.WriteAllBytesAsync(Path.Combine(device, "My Documents", "route.csv"), content);
        var data = temp["host"];
        using var host = CradleHostProcess.RunWith(cable.HostNamespace, ("CRADLE_SYSFS_ROOT", sys),
            "--data", data, "--listen", "127.0.0.1:0", "--http", "off", "--name", "depot", "--activesync", "auto");
        await host.WaitForAsync("driver is rndis_host or cdc_ether (--activesync auto)");

        // Cradled: the interface appears, the host finds it by its driver and backs the device up.
        cable.Add();
        await using (await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, cable), temp["emulator.json"]))
        {
            await host.WaitForAsync($"{cable.HostInterface} appeared (driver rndis_host)");
            await host.WaitForAsync("snapshot 1 committed");
        }

        // Unplugged: the interface goes, and with it the host's watch.
        cable.Remove();
        await host.WaitForAsync($"{cable.HostInterface} is gone: no longer watched");

        // Cradled again: found again, the device re-verified.
        cable.Add();
        await using (await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, cable), temp["emulator.json"]))
        {
            await host.WaitForAsync($"{cable.HostInterface} appeared (driver rndis_host)", 2);
            await host.WaitForAsync("nothing changed since snapshot 1");
        }

        Assert.DoesNotContain("lo appeared", host.Output, StringComparison.Ordinal);
        var target = temp["restore"];
        var (exit, output) = await CradleHostProcess.CommandAsync("host", "restore", Device, "--to", target, "--data", data);
        Assert.True(exit == 0, output);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(target, "My Documents", "route.csv")));
    }

    /// <summary>A sysfs entry as the kernel makes it for a USB network function: class/net/IFACE/device/driver links to the driver.</summary>
    private static void FakeDriver(string sys, string name, string driver)
    {
        var device = Path.Combine(sys, "class", "net", name, "device");
        Directory.CreateDirectory(device);
        File.CreateSymbolicLink(Path.Combine(device, "driver"), $"../../../../bus/usb/drivers/{driver}");
    }

    private static EmulatorOptions DeviceOptions(TempFolder temp, VethCable cable) => new()
    {
        FilesRoot = temp["device"],
        RegistryFile = temp["registry.json"],
        Name = Device,
        HostAddress = VethCable.HostAddress,
        HostPort = Dccm.ActiveSyncListener.DccmPort,
        TriggerAddress = VethCable.DeviceAddress,
        TriggerPort = Dccm.ActiveSyncListener.TriggerPort,
        CarrierInterface = cable.DeviceInterface,
    };
}
