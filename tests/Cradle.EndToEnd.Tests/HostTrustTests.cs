using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 19, hole 4: a device partnered with host A; a different program at the same address,
/// with a new certificate and a new host id, got "partnership created" and every file, with no
/// code and no warning. Now a different host where a pinned one lived is refused loudly (with the
/// way out), and a new network host needs the device's consent as well as the host's.
/// </summary>
public sealed partial class HostTrustTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_different_host_where_a_pinned_host_lived_is_refused_loudly_with_the_way_out()
    {
        await using var real = await RunningHost.StartAsync(_folder.Path, "real");
        await using var impostor = await RunningHost.StartAsync(_folder.Path, "impostor");
        using var address = TcpRelay.Start(real.Address);
        var device = new TestDevice(_folder.Path, "pinned");
        await device.InitAsync("PINNED-1");
        var first = await device.RunAsync("connect", "--host", address.Address, "--once");
        Assert.True(first.ExitCode == 0, first.ToString());

        // Another machine answers at the same address: its own id, its own certificate. Even a
        // device that accepts any new host (as this one does) refuses it: a pinned host lived here.
        address.Retarget(impostor.Address);
        var second = await device.RunAsync("connect", "--host", address.Address, "--once");
        Assert.True(second.ExitCode == 3, second.ToString());
        Assert.Contains("refused: this is not the host you partnered with", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("cradle device end-partnership real", second.Stderr, StringComparison.Ordinal);
        Assert.Empty(await DevicesAsync(impostor));
        var restore = await device.RunAsync("restore", "--host", address.Address);
        Assert.True(restore.ExitCode == 3, restore.ToString());
        Assert.Contains("this is not the host you partnered with", restore.Stderr, StringComparison.Ordinal);

        // The way out, when the host really was replaced: end the old partnership, accept the new one.
        var ended = await device.RunAsync("end-partnership", "real", "--yes");
        Assert.True(ended.ExitCode == 0, ended.ToString());
        var third = await device.RunAsync("connect", "--host", address.Address, "--once");
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Equal("impostor", Assert.Single(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray()).GetProperty("host").GetString());
    }

    [Fact]
    public async Task A_new_network_host_needs_the_devices_consent_and_a_script_gives_it_with_the_code()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "newhost");
        var device = new TestDevice(_folder.Path, "careful");
        await device.InitAsync("CAREFUL-1");

        // No terminal to ask on and no consent given: nothing is sent, and the code is said once.
        var first = await CradleProcess.RunWithAsync(CradleProcess.AskingDevice, "device", "connect", "--host", host.Address, "--once", "--state", device.State);
        Assert.True(first.ExitCode == 3, first.ToString());
        var code = CodeLine().Match(first.Stderr).Groups[1].Value;
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Contains($"--accept-new-host {code}", first.Stderr, StringComparison.Ordinal);
        Assert.Empty(await SnapshotsAsync(host));
        Assert.False(Assert.Single(await DevicesAsync(host)).GetProperty("confirmed").GetBoolean());
        Assert.Empty(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray());
        Assert.Contains($"waits for your consent: code {code}", (await device.RunAsync("partnerships")).Stdout, StringComparison.Ordinal);

        // A wrong code changes nothing; the same code as before is asked for again.
        var wrong = await CradleProcess.RunWithAsync(CradleProcess.AskingDevice, "device", "connect", "--host", host.Address, "--once", "--accept-new-host", code == "000000" ? "111111" : "000000", "--state", device.State);
        Assert.True(wrong.ExitCode == 3, wrong.ToString());
        Assert.Contains("is not this host's", wrong.Stderr, StringComparison.Ordinal);
        Assert.Contains($"--accept-new-host {code}", wrong.Stderr, StringComparison.Ordinal);
        Assert.Empty(await SnapshotsAsync(host));

        // The code both screens showed: accepted, the partnership confirmed, the backup made.
        var accepted = await CradleProcess.RunWithAsync(CradleProcess.AskingDevice, "device", "connect", "--host", host.Address, "--once", "--accept-new-host", code, "--state", device.State);
        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        Assert.Single(await SnapshotsAsync(host));
        Assert.True(Assert.Single(await DevicesAsync(host)).GetProperty("confirmed").GetBoolean());
        Assert.Equal("newhost", Assert.Single(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray()).GetProperty("host").GetString());

        // Trusted once: later connects need nothing.
        var later = await CradleProcess.RunWithAsync(CradleProcess.AskingDevice, "device", "connect", "--host", host.Address, "--once", "--state", device.State);
        Assert.True(later.ExitCode == 0, later.ToString());
    }

    private static async Task<List<JsonElement>> DevicesAsync(RunningHost host) =>
        [.. JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray()];

    private static async Task<List<JsonElement>> SnapshotsAsync(RunningHost host) =>
        [.. JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.EnumerateArray()];

    [GeneratedRegex(@"shows code (\d{6})")]
    private static partial Regex CodeLine();
}
