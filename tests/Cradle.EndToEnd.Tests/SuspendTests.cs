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
    private const int MiB = 1024 * 1024;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Network()
    {
        await using var host = await StartHostAsync([]);
        await SuspendMidBackupAsync(host, ["--host", host.Address], null, fileSize: 200 * MiB, suspendAfter: 16 * MiB);
    }

    [Fact]
    public async Task Usb()
    {
        using var cable = UsbCable.Create(plugged: true);
        await using var host = await StartHostAsync(["--usb", cable.HostInterface], cable.HostNamespace);
        await SuspendMidBackupAsync(host, ["--usb", cable.DeviceInterface], cable.DeviceNamespace, fileSize: 200 * MiB, suspendAfter: 16 * MiB);
    }

    [Fact]
    public async Task Serial()
    {
        // An unpaced line: the point is the suspend, not the rate.
        using var relay = LineRelay.SerialLineRelay.Start(new LineRelay.LineRelayOptions());
        await using var host = await StartHostAsync(["--serial", relay.HostPort + "@115200"]);
        await SuspendMidBackupAsync(host, ["--serial", relay.DevicePort], null, fileSize: 6 * MiB, suspendAfter: 1 * MiB);
    }

    [Fact]
    public async Task An_idle_device_that_resumes_finds_its_session_gone_and_reconnects_by_itself()
    {
        await using var host = await StartHostAsync([]);
        var device = new TestDevice(_folder.Path, "idle");
        await device.InitAsync("MX7-IDLE");
        await using var agent = device.StartConnect(null, "--host", host.Address, "--keepalive-timeout", "3", "--interval", "0.5");
        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object && s.GetProperty("phase").GetString() == "idle");

        agent.Suspend();
        try
        {
            Assert.True(await host.Process.WaitForOutputAsync("silent for 3 s", TimeSpan.FromSeconds(30)), "the host never noticed the silent device:\n" + host.Process.Stderr);
        }
        finally
        {
            agent.Resume();
        }

        // No file changed: only the dead session can make the device connect again.
        Assert.True(await agent.WaitForOutputAsync("stopped answering while the session was idle", TimeSpan.FromSeconds(30)), agent.Stdout + agent.Stderr);
        for (var i = 0; i < 300 && Authenticated().Matches(host.Process.Stderr).Count < 1; i++)
        {
            await Task.Delay(100);
        }

        Assert.Single(Authenticated().Matches(host.Process.Stderr));
        await device.WaitForStatusAsync(s => s.GetProperty("connected").GetBoolean());
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [GeneratedRegex(@"MX7-IDLE connected \(partnership")]
    private static partial Regex Authenticated();

    private Task<RunningHost> StartHostAsync(string[] link, string? netns = null) =>
        RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--keepalive-timeout", "3", .. link], netns);

    private async Task SuspendMidBackupAsync(RunningHost host, string[] deviceLink, string? netns, int fileSize, int suspendAfter)
    {
        var device = new TestDevice(_folder.Path, "sleepy");
        await device.InitAsync("MX7-SLEEPY");
        await using var agent = device.StartConnect(netns, [.. deviceLink, "--keepalive-timeout", "3", "--interval", "0.5"]);
        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object);

        var big = TestData.Bytes(77, fileSize);
        await device.PlaceFileAsync("video.bin", big);
        await device.WaitForStatusAsync(s => s.GetProperty("phase").GetString() == "uploading" && s.GetProperty("progress").GetProperty("wireBytesSent").GetInt64() > suspendAfter);
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
        Assert.True(storedAfterResume < fileSize - (suspendAfter / 2), $"the resumed backup stored {storedAfterResume} bytes of a {fileSize}-byte file: the chunks stored before the suspend were not kept");

        var restored = Path.Combine(_folder.Path, "restored");
        Assert.Equal(0, (await host.RunAsync("host", "restore", "MX7-SLEEPY", "--to", restored)).ExitCode);
        var back = await File.ReadAllBytesAsync(Directory.GetFiles(restored, "video.bin", SearchOption.AllDirectories).Single());
        Assert.True(big.AsSpan().SequenceEqual(back), $"the restored video.bin differs from the device's: {back.Length} bytes restored of {big.Length}, first difference at offset {big.AsSpan().CommonPrefixLength(back)}\n{host.Process.Stderr}\n{agent.Stdout}{agent.Stderr}");
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [GeneratedRegex(@"snapshot (\d+) committed: \d+ files, \d+ bytes, \d+ new chunks, (\d+) bytes stored")]
    private static partial Regex Committed();

    public void Dispose() => _folder.Dispose();
}
