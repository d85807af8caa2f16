using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cradle.LineRelay;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Faults in the middle of a file's upload: the device killed with SIGKILL, the network
/// connection reset, the serial line cut. The host ends the session, lists no half snapshot,
/// keeps the chunks that reached it, and the next session finishes the backup sending only what
/// is missing; the restore is the device's data byte for byte. (The USB cable pulled mid-upload
/// is <see cref="UsbLinkTests"/>; a device suspended mid-upload, on every link, <see cref="SuspendTests"/>.)
/// </summary>
public sealed partial class MidTransferFaultTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_network_connection_reset_mid_file_loses_nothing_and_the_next_session_sends_only_the_rest()
    {
        await using var host = await StartHostAsync([]);
        using var relay = TcpRelay.Start(host.Address);
        var device = new TestDevice(_folder.Path, "cut");
        await using var agent = await StartAgentAsync(device, "MX7-CUT", ["--host", relay.Address]);

        var big = await UploadUntilAsync(host, device, fileSize: 256 * MiB, cutAfter: 16 * MiB);
        relay.Cut();
        await AssertSessionEndedWithoutSnapshotAsync(host, device);
        relay.Mend();

        await AssertResumedAndRestoredAsync(host, device, "MX7-CUT", big, cutAfter: 16 * MiB);
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task The_serial_line_cut_mid_file_loses_nothing_and_the_next_session_sends_only_the_rest()
    {
        // An unpaced line: the point is the cut, not the rate.
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        await using var host = await StartHostAsync(["--serial", relay.HostPort + "@115200"]);
        var device = new TestDevice(_folder.Path, "unplugged");
        await using var agent = await StartAgentAsync(device, "MX7-UNPLUG", ["--serial", relay.DevicePort]);

        var big = await UploadUntilAsync(host, device, fileSize: 6 * MiB, cutAfter: 1 * MiB);
        relay.Cut = true;
        await AssertSessionEndedWithoutSnapshotAsync(host, device);
        relay.Cut = false;

        await AssertResumedAndRestoredAsync(host, device, "MX7-UNPLUG", big, cutAfter: 1 * MiB);
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_device_killed_mid_transfer_leaves_no_half_snapshot_and_its_next_backup_sends_less()
    {
        await using var host = await StartHostAsync([]);
        var device = new TestDevice(_folder.Path, "killed");
        var fileSize = 256 * MiB;
        byte[] big;
        await using (var agent = await StartAgentAsync(device, "MX7-KILLED", ["--host", host.Address]))
        {
            big = await UploadUntilAsync(host, device, fileSize, cutAfter: 16 * MiB);
            agent.Kill();
            await AssertSessionEndedWithoutSnapshotAsync(host, device: null);
        }

        var check = await host.RunAsync("host", "check", "--read-data");
        Assert.True(check.ExitCode == 0, check.ToString());

        // The device starts again from its state as the kill left it (a power cut, as it sees it).
        var again = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        var sent = JsonDocument.Parse(again.Stdout).RootElement.GetProperty("wireBytesSent").GetInt64();
        Assert.True(sent < fileSize - (8 * MiB), $"the backup after the kill sent {sent} bytes for a {fileSize}-byte file: the chunks that reached the host before the kill were sent again");
        await AssertRestoredAsync(host, device, big, "MX7-KILLED");
    }

    private Task<RunningHost> StartHostAsync(string[] link) =>
        RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--keepalive-timeout", "3", .. link]);

    /// <summary>A device that stays connected, after its first (small) backup.</summary>
    private static async Task<CradleProcess> StartAgentAsync(TestDevice device, string name, string[] link)
    {
        await device.InitAsync(name);
        var agent = device.StartConnect(null, [.. link, "--keepalive-timeout", "3", "--interval", "0.5"]);
        try
        {
            await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object);
        }
        catch (TimeoutException e)
        {
            await agent.DisposeAsync();
            throw new TimeoutException($"{e.Message}\ndevice:\n{agent.Stdout}{agent.Stderr}", e);
        }

        return agent;
    }

    /// <summary>
    /// Puts a big file in the device's folder and returns once the host has stored this much of it.
    /// What the device has sent is not enough: under load several MB sit in the socket buffers
    /// between the two (and a reset throws them away), so the test waits for the host's own count
    /// of chunk bytes received in this session (the dashboard's session board).
    /// </summary>
    private async Task<byte[]> UploadUntilAsync(RunningHost host, TestDevice device, int fileSize, int cutAfter)
    {
        var big = TestData.Bytes(91, fileSize);
        var staged = Path.Combine(_folder.Path, "video.staged");
        await File.WriteAllBytesAsync(staged, big);
        File.Move(staged, Path.Combine(device.DataFolder, "video.bin"));
        await device.WaitForStatusAsync(s => s.GetProperty("phase").GetString() == "uploading" && s.GetProperty("progress").GetProperty("wireBytesSent").GetInt64() > cutAfter);
        await WaitForHostBackupBytesAsync(host, cutAfter);
        return big;
    }

    /// <summary>Waits until a live backup session on the host has gone through more than this many bytes.</summary>
    private static async Task WaitForHostBackupBytesAsync(RunningHost host, long bytes)
    {
        using var api = await host.DashboardClientAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long seen = 0;
        while (DateTime.UtcNow < deadline)
        {
            using var sessions = JsonDocument.Parse(await api.GetStringAsync("api/v1/sessions"));
            seen = sessions.RootElement.GetProperty("live").EnumerateArray()
                .Where(s => s.GetProperty("phase").GetString() == "backing-up")
                .Select(s => s.GetProperty("bytesDone").GetInt64())
                .DefaultIfEmpty(0)
                .Max();
            if (seen > bytes)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the host's backup session reached {seen} bytes, never more than {bytes}:\n{host.Process.Stderr}");
    }

    /// <summary>The host ended the session; only the first snapshot is listed; the device (if alive) knows it is disconnected.</summary>
    private static async Task AssertSessionEndedWithoutSnapshotAsync(RunningHost host, TestDevice? device)
    {
        Assert.True(await host.Process.WaitForOutputAsync("session ended", TimeSpan.FromSeconds(30)), "the host never ended the session:\n" + host.Process.Stderr);
        if (device is not null)
        {
            await device.WaitForStatusAsync(s => !s.GetProperty("connected").GetBoolean());
        }

        var snapshots = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement;
        Assert.Equal(1, snapshots.GetArrayLength());
    }

    private async Task AssertResumedAndRestoredAsync(RunningHost host, TestDevice device, string name, byte[] big, int cutAfter)
    {
        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object && s.GetProperty("lastBackup").GetProperty("snapshot").GetInt64() == 2, TimeSpan.FromMinutes(2));
        var committed = Committed().Matches(host.Process.Stderr + host.Process.Stdout).Single(m => m.Groups[1].Value == "2");
        var stored = long.Parse(committed.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.True(stored < big.Length - (cutAfter / 2), $"the backup after the cut stored {stored} bytes of a {big.Length}-byte file: the chunks that arrived before the cut were not kept");
        await AssertRestoredAsync(host, device, big, name);
    }

    private async Task AssertRestoredAsync(RunningHost host, TestDevice device, byte[] big, string name)
    {
        var restored = Path.Combine(_folder.Path, "restored");
        var restore = await host.RunAsync("host", "restore", name, "--to", restored);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(device.DataFolder, Directory.GetDirectories(restored).Single());
        Assert.Equal(big.Length, new FileInfo(Path.Combine(device.DataFolder, "video.bin")).Length);
    }

    [GeneratedRegex(@"snapshot (\d+) committed: \d+ files, \d+ bytes, \d+ new chunks, (\d+) bytes stored")]
    private static partial Regex Committed();

    public void Dispose() => _folder.Dispose();
}
