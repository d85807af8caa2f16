using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A device that suspends mid-backup (SIGSTOP): the host's keepalive ends the session within its
/// timeout and keeps every chunk already stored; when the device resumes (SIGCONT) it reconnects
/// by itself and finishes the backup without sending those chunks again. On every link.
/// </summary>
public sealed partial class SuspendTests : IDisposable
{
    private const int FileSize = 200 * 1024 * 1024;
    private readonly TempFolder _folder = new();

    [Fact]
    public Task Network() => SuspendMidBackupAsync(cable: null);

    [Fact]
    public async Task Usb()
    {
        using var cable = UsbCable.Create(plugged: true);
        await SuspendMidBackupAsync(cable);
    }

    private async Task SuspendMidBackupAsync(UsbCable? cable)
    {
        string[] hostLink = cable is null ? [] : ["--usb", cable.HostInterface];
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--keepalive-timeout", "3", .. hostLink], cable?.HostNamespace);
        var device = new TestDevice(_folder.Path, "sleepy");
        await device.InitAsync("MX7-SLEEPY");
        string[] deviceLink = cable is null ? ["--host", host.Address] : ["--usb", cable.DeviceInterface];
        await using var agent = device.StartConnect(cable?.DeviceNamespace, [.. deviceLink, "--keepalive-timeout", "3", "--interval", "0.5"]);
        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object);

        var big = TestData.Bytes(77, FileSize);
        await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, "video.bin"), big);
        await device.WaitForStatusAsync(s => s.GetProperty("phase").GetString() == "uploading" && s.GetProperty("progress").GetProperty("wireBytesSent").GetInt64() > 16 * 1024 * 1024);
        agent.Suspend();
        try
        {
            Assert.True(await host.Process.WaitForOutputAsync("silent for 3 s", TimeSpan.FromSeconds(30)), "the host never noticed the silent device:\n" + host.Process.Stdout);
        }
        finally
        {
            agent.Resume();
        }

        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object && s.GetProperty("lastBackup").GetProperty("snapshot").GetInt64() == 2, TimeSpan.FromMinutes(2));

        // The resumed backup stored only what had not reached the host before the suspend.
        var committed = Committed().Matches(host.Process.Stderr + host.Process.Stdout).Single(m => m.Groups[1].Value == "2");
        var storedAfterResume = long.Parse(committed.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(storedAfterResume < FileSize - (8 * 1024 * 1024), $"the resumed backup stored {storedAfterResume} bytes of a {FileSize}-byte file: the chunks stored before the suspend were not kept");

        var restored = Path.Combine(_folder.Path, "restored");
        Assert.Equal(0, (await host.RunAsync("host", "restore", "MX7-SLEEPY", "--to", restored)).ExitCode);
        var back = await File.ReadAllBytesAsync(Directory.GetFiles(restored, "video.bin", SearchOption.AllDirectories).Single());
        Assert.True(big.AsSpan().SequenceEqual(back), "the restored video.bin differs from the device's");
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [GeneratedRegex(@"snapshot (\d+) committed: \d+ files, \d+ bytes, \d+ new chunks, (\d+) bytes stored")]
    private static partial Regex Committed();

    public void Dispose() => _folder.Dispose();
}
