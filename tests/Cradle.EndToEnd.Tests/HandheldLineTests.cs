using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cradle.LineRelay;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Backups over the line a handheld's cable gives: 115,200 baud, paced as a real UART is, with
/// bit errors and lost bytes. Small (256 KiB of incompressible data) because the line is slow
/// by nature; the goodput figures are in docs/BENCHMARKS.md (bench/serial.sh), not here.
/// </summary>
public sealed partial class HandheldLineTests : IDisposable
{
    private const int Baud = 115200;
    private const int FileSize = 256 * 1024;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_backup_crosses_a_115200_baud_line_with_bit_errors_at_1e_5_and_little_is_sent_twice()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: Baud, BitErrorRate: 1e-5, Seed: 42));
        await using var host = await StartHostAsync(relay, "--keepalive-timeout", "15");
        var (device, data) = await DeviceWithFileAsync("MX7-BER5", seed: 5);

        var backup = await device.RunAsync("connect", "--serial", relay.DevicePort, "--baud", Baud.ToString(CultureInfo.InvariantCulture), "--once", "--json");
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var stats = relay.Stats;
        Assert.True(stats.DeviceToHost.BitsFlipped >= 10, $"the line flipped too few bits to prove anything: {stats}");

        // With frames sized to the errors (about 450 bytes here), sent again only when lost, the
        // line carries less than 1.15 bytes per byte of file (TLS and protocol included). Frames
        // of 2 KiB lose 15 % of themselves at this rate; the first release carried about 1.3.
        var perByte = (double)stats.DeviceToHost.BytesForwarded / FileSize;
        Assert.True(perByte < 1.15, $"the line carried {perByte:0.000} bytes per byte of the file: {stats}");
        await AssertRestoredAsync(host, "MX7-BER5", data);
    }

    [Fact]
    public async Task A_backup_crosses_a_115200_baud_line_at_1e_4_with_lost_bytes_and_a_cut_session_leaves_its_chunks_for_the_next()
    {
        // At 1e-4 four of five 2 KiB frames are hit: before frames followed the error rate no
        // chunk ever crossed, and the sessions died of a silence that was the line retransmitting.
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: Baud, BitErrorRate: 1e-4, DropRate: 1e-5, Seed: 7));
        await using var host = await StartHostAsync(relay, "--keepalive-timeout", "6");
        var (device, data) = await DeviceWithFileAsync("MX7-BER4", seed: 4);
        await using var agent = device.StartConnect(null, "--serial", relay.DevicePort, "--baud", Baud.ToString(CultureInfo.InvariantCulture), "--keepalive-timeout", "6", "--interval", "1");

        // Halfway, the cable is pulled for longer than the keepalive: both sides end the session.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (relay.Stats.DeviceToHost.BytesForwarded < FileSize / 2 && DateTime.UtcNow < deadline && !agent.HasExited)
        {
            await Task.Delay(100);
        }

        Assert.False(agent.HasExited, agent.Stdout + agent.Stderr);
        relay.Cut = true;
        await device.WaitForStatusAsync(s => s.GetProperty("failures").GetInt32() >= 1, TimeSpan.FromSeconds(60));
        Assert.True(await host.Process.WaitForOutputAsync("session ended", TimeSpan.FromSeconds(60)), host.Process.Stderr);
        relay.Cut = false;

        // The agent offers again by itself; the next session sends what did not cross.
        var status = await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object, TimeSpan.FromMinutes(4));
        Assert.Equal(1, status.GetProperty("lastBackup").GetProperty("snapshot").GetInt64());
        var stats = relay.Stats;
        Assert.True(stats.DeviceToHost.BitsFlipped > 100 && stats.DeviceToHost.BytesDropped > 0, $"the line was not noisy enough to prove anything: {stats}");
        var committed = Committed().Match(host.Process.Stderr + host.Process.Stdout);
        Assert.True(committed.Success, host.Process.Stderr);
        var stored = long.Parse(committed.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(stored < FileSize * 0.8, $"the session after the cut stored {stored} bytes of a {FileSize}-byte file: what crossed before the cut was not kept");
        await AssertRestoredAsync(host, "MX7-BER4", data);
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [GeneratedRegex(@"snapshot 1 committed: \d+ files, \d+ bytes, \d+ new chunks, (\d+) bytes stored")]
    private static partial Regex Committed();

    private Task<RunningHost> StartHostAsync(SerialLineRelay relay, params string[] extra) =>
        RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: false, ["--serial", $"{relay.HostPort}@{Baud}", .. extra]);

    private async Task<(TestDevice Device, byte[] Data)> DeviceWithFileAsync(string name, ulong seed)
    {
        var device = new TestDevice(_folder.Path, name.ToLowerInvariant());
        Directory.CreateDirectory(device.DataFolder);
        var data = TestData.Bytes(seed, FileSize);
        await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, "scan.bin"), data);
        Assert.Equal(0, (await device.InitAsync(name)).ExitCode);
        return (device, data);
    }

    private async Task AssertRestoredAsync(RunningHost host, string name, byte[] data)
    {
        var restored = Path.Combine(_folder.Path, "restored-" + name);
        var restore = await host.RunAsync("host", "restore", name, "--to", restored);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        var back = await File.ReadAllBytesAsync(Directory.GetFiles(restored, "scan.bin", SearchOption.AllDirectories).Single());
        Assert.True(data.AsSpan().SequenceEqual(back), "the restored file differs from the device's");
    }

    public void Dispose() => _folder.Dispose();
}
