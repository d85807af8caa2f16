using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>Approval of network partnerships, staying connected, status, disconnect, and Ctrl-C on the host.</summary>
public sealed partial class SessionLifecycleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_network_partnership_waits_for_the_operator_who_sees_the_same_code()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "strict", autoApprove: false);
        var device = new TestDevice(_folder.Path, "new");
        await device.InitAsync("NEW-1");
        await using var connect = CradleProcess.Start("device", "connect", "--host", host.Address, "--once", "--state", device.State);

        string? code = null;
        for (var i = 0; i < 300 && code is null; i++)
        {
            var pending = JsonDocument.Parse((await host.RunAsync("host", "pending", "--json")).Stdout).RootElement;
            code = pending.GetArrayLength() == 1 ? pending[0].GetProperty("code").GetString() : null;
            if (code is null)
            {
                await Task.Delay(100);
            }
        }

        Assert.NotNull(code);
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Empty(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());
        Assert.Contains($"code {code}", connect.Stderr);

        Assert.NotEqual(0, (await host.RunAsync("host", "approve", "000000" == code ? "111111" : "000000")).ExitCode);
        Assert.Equal(0, (await host.RunAsync("host", "approve", code!)).ExitCode);
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        var devices = JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement;
        Assert.Equal("NEW-1", devices[0].GetProperty("name").GetString());
        Assert.Equal(1, devices[0].GetProperty("snapshots").GetInt32());
    }

    [Fact]
    public async Task A_denied_partnership_is_refused_and_nothing_is_kept()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "strict", autoApprove: false);
        var device = new TestDevice(_folder.Path, "denied");
        await device.InitAsync("DENIED-1");
        await using var connect = CradleProcess.Start("device", "connect", "--host", host.Address, "--once", "--state", device.State);
        string? code = null;
        for (var i = 0; i < 300 && code is null; i++)
        {
            var match = CodeLine().Match(connect.Stderr);
            code = match.Success ? match.Groups[1].Value : null;
            await Task.Delay(code is null ? 100 : 0);
        }

        Assert.Equal(0, (await host.RunAsync("host", "deny", code!)).ExitCode);
        Assert.Equal(3, await connect.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("denied", connect.Stderr);
        Assert.Empty(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray());
        Assert.Empty(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Connected_device_backs_up_changes_shows_status_and_disconnects_cleanly()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "live");
        await device.InitAsync("LIVE-1");
        await using var connect = CradleProcess.Start("device", "connect", "--host", host.Address, "--interval", "0.2", "--state", device.State);

        var status = await WaitForStatusAsync(device, s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object);
        Assert.True(status.GetProperty("connected").GetBoolean());
        Assert.Equal("depot", status.GetProperty("host").GetString());
        Assert.Equal("network", status.GetProperty("link").GetString());
        var firstSnapshot = status.GetProperty("lastBackup").GetProperty("snapshot").GetInt64();

        File.WriteAllText(Path.Combine(device.DataFolder, "new-scan.log"), "a change while connected\n");
        status = await WaitForStatusAsync(device, s => s.GetProperty("lastBackup").GetProperty("snapshot").GetInt64() > firstSnapshot);
        Assert.Equal(2, status.GetProperty("lastBackup").GetProperty("files").GetInt64());

        var disconnect = await device.RunAsync("disconnect");
        Assert.Equal(0, disconnect.ExitCode);
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var after = JsonDocument.Parse((await device.RunAsync("status", "--json")).Stdout).RootElement;
        Assert.False(after.GetProperty("connected").GetBoolean());
        Assert.Equal(2, JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Ctrl_C_stops_the_host_cleanly()
    {
        var host = await RunningHost.StartAsync(_folder.Path, "stoppable");
        await using (host)
        {
            host.Process.Interrupt();
            var code = await host.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.True(code == 0, $"exit {code}\nstdout:\n{host.Process.Stdout}\nstderr:\n{host.Process.Stderr}");
            Assert.Contains("stopping", host.Process.Stdout);
        }
    }

    private static Task<JsonElement> WaitForStatusAsync(TestDevice device, Func<JsonElement, bool> condition) =>
        device.WaitForStatusAsync(s => s.GetProperty("connected").GetBoolean() && condition(s));

    [GeneratedRegex(@"code (\d{6})")]
    private static partial Regex CodeLine();

    public void Dispose() => _folder.Dispose();
}
