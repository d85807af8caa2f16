using System.Text.Json;
using Cradle.LineRelay;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The serial link end to end: the real executables on the two ends of a pseudo-terminal cable
/// whose relay paces, flips bits, garbles a wrong rate and stalls.
/// </summary>
public sealed class SerialLinkTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_backup_crosses_a_noisy_line_byte_for_byte()
    {
        // A fast line (921600 baud, paced) so the test is quick; the link's timers follow the rate.
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 921600, BitErrorRate: 1e-5, DropRate: 2e-5, Seed: 5));
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: false, ["--serial", relay.HostPort + "@921600"]);
        var device = new TestDevice(_folder.Path, "noisy");
        Directory.CreateDirectory(device.DataFolder);
        await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, "photo.jpg"), TestData.Bytes(3, 640 * 1024));
        await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, "scan.log"), TestData.Text(256 * 1024));
        await device.InitAsync("MX7-NOISY");

        var backup = await device.RunAsync("connect", "--serial", relay.DevicePort, "--baud", "921600", "--once", "--json");
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var stats = relay.Stats;
        Assert.True(stats.DeviceToHost.BitsFlipped + stats.HostToDevice.BitsFlipped > 5, $"the line flipped too few bits to prove anything: {stats}");
        Assert.True(stats.DeviceToHost.BytesDropped + stats.HostToDevice.BytesDropped > 2, $"the line dropped too few bytes to prove anything: {stats}");

        var restored = Path.Combine(_folder.Path, "restored");
        Assert.Equal(0, (await host.RunAsync("host", "restore", "MX7-NOISY", "--to", restored)).ExitCode);
        var differences = Content.TreeComparer.Compare(device.DataFolder, Directory.GetDirectories(restored).Single());
        Assert.Empty(differences);
        var devices = JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement;
        Assert.Equal("serial", devices[0].GetProperty("lastLink").GetString());

        // And back onto the device over the same noisy line, after it lost its files.
        var original = Path.Combine(_folder.Path, "original");
        Directory.Move(device.DataFolder, original);
        Directory.CreateDirectory(device.DataFolder);
        var back = await device.RunAsync("restore", "--serial", relay.DevicePort, "--baud", "921600");
        Assert.True(back.ExitCode == 0, back.ToString());
        Assert.Empty(Content.TreeComparer.Compare(original, device.DataFolder));
    }

    [Fact]
    public async Task Get_connected_finds_the_device_at_its_rate_and_tells_silent_and_noisy_ports_apart()
    {
        using var line = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 57600, EmulateBaudMismatch: true));
        using var silent = SerialLineRelay.Start(new LineRelayOptions());
        using var noisy = SerialLineRelay.Start(new LineRelayOptions());
        using var stopNoise = new CancellationTokenSource();
        var noise = Task.Run(async () =>
        {
            await using var port = new FileStream(noisy.DevicePort, FileMode.Open, FileAccess.ReadWrite);
            var random = new Random(9);
            var bytes = new byte[64];
            while (!stopNoise.IsCancellationRequested)
            {
                random.NextBytes(bytes);
                await port.WriteAsync(bytes);
                await port.FlushAsync();
                await Task.Delay(20);
            }
        });

        var device = new TestDevice(_folder.Path, "wizard");
        await device.InitAsync("MX7-WIZARD");
        await using var connect = CradleProcess.Start("device", "connect", "--serial", line.DevicePort, "--baud", "57600", "--once", "--state", device.State);
        Assert.True(await connect.WaitForOutputAsync("offering a session", TimeSpan.FromSeconds(30)), connect.Stderr);

        var scan = await CradleProcess.RunAsync("host", "get-connected", "--port", line.HostPort, "--port", silent.HostPort, "--port", noisy.HostPort, "--json", "--wait", "1");
        Assert.True(scan.ExitCode == 0, scan.ToString());
        var ports = JsonDocument.Parse(scan.Stdout).RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("port").GetString()!);
        Assert.Equal("device", ports[line.HostPort].GetProperty("result").GetString());
        Assert.Equal(57600, ports[line.HostPort].GetProperty("baud").GetInt32());
        Assert.Equal("MX7-WIZARD", ports[line.HostPort].GetProperty("device").GetString());
        Assert.Equal("silent", ports[silent.HostPort].GetProperty("result").GetString());
        Assert.Equal("noise", ports[noisy.HostPort].GetProperty("result").GetString());
        await stopNoise.CancelAsync();
        await noise;

        // The host watching the port scans the rates the same way, answers, and the backup runs.
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: false, ["--serial", line.HostPort]);
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        Assert.Contains("at 57600 baud", host.Process.Stderr + host.Process.Stdout);
        Assert.True(line.Stats.DeviceToHost.BytesGarbled > 0, "the rate scan never met a wrong rate: the test proves nothing");
    }

    [Fact]
    public async Task A_stalled_line_ends_in_a_clear_timeout_and_the_port_serves_again_afterwards()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: false, ["--serial", relay.HostPort + "@115200", "--keepalive-timeout", "3"]);
        var device = new TestDevice(_folder.Path, "stall");
        Directory.CreateDirectory(device.DataFolder);
        await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, "big.bin"), TestData.Bytes(8, 16 * 1024 * 1024));
        await device.InitAsync("MX7-STALL");

        await using var connect = CradleProcess.Start("device", "connect", "--serial", relay.DevicePort, "--once", "--keepalive-timeout", "3", "--state", device.State);
        Assert.True(await host.Process.WaitForOutputAsync("new partnership", TimeSpan.FromSeconds(60)), host.Process.Stderr);
        await Task.Delay(500);
        relay.Stall(TimeSpan.FromSeconds(25));
        Assert.Equal(4, await connect.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("link failed", connect.Stderr);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(connect.Stderr, "silent for 3 s|no acknowledgement|nothing could be sent for 3 s"), connect.Stderr);
        Assert.True(await host.Process.WaitForOutputAsync("session ended", TimeSpan.FromSeconds(30)), host.Process.Stderr);

        // The line comes back by itself: the host still watches the port, the next connect completes.
        var again = await device.RunAsync("connect", "--serial", relay.DevicePort, "--once");
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    public void Dispose() => _folder.Dispose();
}
