using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The USB link over a veth pair between two network namespaces: the device syncs by itself when
/// the cable comes up, a pulled cable ends the session cleanly on both sides and plugging it back
/// starts a new one that finishes the backup; no approval code (the device is at the host).
/// </summary>
public sealed class UsbLinkTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Cable_in_starts_a_backup_by_itself_cable_out_ends_it_and_cable_in_again_finishes_it()
    {
        using var cable = UsbCable.Create(plugged: false);
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: false, ["--usb", cable.HostInterface], cable.HostNamespace);
        var device = new TestDevice(_folder.Path, "usb");
        await device.InitAsync("MX7-USB");
        await using var agent = device.StartConnect(cable.DeviceNamespace, "--usb", cable.DeviceInterface, "--interval", "0.5");

        Assert.True(await agent.WaitForOutputAsync("waiting for the USB cable", TimeSpan.FromSeconds(30)), agent.Stdout + agent.Stderr);
        cable.Plug();
        var status = await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object);
        Assert.Equal("usb", status.GetProperty("link").GetString());
        Assert.True(status.GetProperty("connected").GetBoolean());

        // A big change, then the cable is pulled while it uploads.
        var big = TestData.Bytes(44, 160 * 1024 * 1024);
        await device.PlaceFileAsync("video.bin", big);
        await device.WaitForStatusAsync(s => s.GetProperty("phase").GetString() == "uploading" && s.GetProperty("progress").GetProperty("wireBytesSent").GetInt64() > 4 * 1024 * 1024);
        cable.Unplug();
        Assert.True(await agent.WaitForOutputAsync("cable out", TimeSpan.FromSeconds(30)), agent.Stdout + agent.Stderr);
        Assert.True(await host.Process.WaitForOutputAsync("went down (cable out)", TimeSpan.FromSeconds(30)), host.Process.Stdout);
        status = await device.WaitForStatusAsync(s => !s.GetProperty("connected").GetBoolean());
        Assert.Equal(1, status.GetProperty("lastBackup").GetProperty("snapshot").GetInt64());

        cable.Plug();
        status = await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").GetProperty("snapshot").GetInt64() == 2, TimeSpan.FromMinutes(2));
        Assert.Equal(2, status.GetProperty("lastBackup").GetProperty("files").GetInt64());

        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await host.Process.WaitForOutputAsync("session ended: goodbye", TimeSpan.FromSeconds(10)), host.Process.Stdout);

        // The restored file is the file; the partnership needed no approval and says "usb".
        var restored = Path.Combine(_folder.Path, "restored");
        Assert.Equal(0, (await host.RunAsync("host", "restore", "MX7-USB", "--to", restored)).ExitCode);
        var back = await File.ReadAllBytesAsync(Directory.GetFiles(restored, "video.bin", SearchOption.AllDirectories).Single());
        Assert.True(big.AsSpan().SequenceEqual(back), "the restored video.bin differs from the device's");
        var devices = JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement;
        Assert.Equal("usb", devices[0].GetProperty("lastLink").GetString());
    }

    public void Dispose() => _folder.Dispose();
}
