using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A host that stops answering (SIGSTOP: hung, swapped out, a VM paused) while its kernel still
/// accepts connections. Every such failure is a link failure: exit 4 with what timed out, and
/// the agent tries again, forever, until the host is back.
/// </summary>
public sealed class HostStopTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_host_stopped_in_the_handshake_is_a_link_failure_that_says_what_timed_out()
    {
        await using var host = await StartHostAsync();
        var device = new TestDevice(_folder.Path, "once");
        Assert.Equal(0, (await device.InitAsync("MX7-ONCE")).ExitCode);

        host.Process.Suspend();
        try
        {
            var once = await device.RunAsync("connect", "--host", host.Address, "--once", "--connect-timeout", "2");
            Assert.Equal(4, once.ExitCode);
            Assert.Contains("link failed: ", once.Stderr);
            Assert.Contains("did not finish the TLS handshake within 2 s", once.Stderr);
            Assert.DoesNotContain("cancelled", once.Stderr);
        }
        finally
        {
            host.Process.Resume();
        }
    }

    [Fact]
    public async Task The_agent_keeps_trying_while_the_host_is_stopped_and_backs_up_when_it_answers_again()
    {
        await using var host = await StartHostAsync();
        var device = new TestDevice(_folder.Path, "patient");
        Assert.Equal(0, (await device.InitAsync("MX7-PATIENT")).ExitCode);

        host.Process.Suspend();
        await using var agent = device.StartConnect(null, "--host", host.Address, "--keepalive-timeout", "3", "--connect-timeout", "2", "--interval", "0.5");
        JsonElement waiting;
        try
        {
            // Two handshakes timed out, and the agent still runs and says when it tries next.
            waiting = await device.WaitForStatusAsync(s => s.GetProperty("failures").GetInt32() >= 2, TimeSpan.FromSeconds(60));
            Assert.False(agent.HasExited, agent.Stdout + agent.Stderr);
        }
        finally
        {
            host.Process.Resume();
        }

        Assert.False(waiting.GetProperty("connected").GetBoolean());
        Assert.Equal("waiting to reconnect", waiting.GetProperty("phase").GetString());
        Assert.Contains("TLS handshake", waiting.GetProperty("lastError").GetString());
        Assert.Equal(JsonValueKind.String, waiting.GetProperty("nextAttempt").ValueKind);
        var shown = await device.RunAsync("status");
        Assert.Contains("trying again at", shown.Stdout);
        Assert.Contains("the agent keeps trying", agent.Stderr);

        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(90));
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_host_stopped_mid_backup_is_waited_for_and_the_backup_finishes_when_it_answers_again()
    {
        await using var host = await StartHostAsync();

        // A cable of 40 MiB/s: the 200 MiB upload lasts about 5 s, so the status polls see it
        // mid-way even on a loaded machine (over bare loopback it could finish between two polls).
        using var cable = TcpRelay.Start(host.Address);
        cable.DeviceToHostRate = 40L * MiB;
        var device = new TestDevice(_folder.Path, "midway");
        Assert.Equal(0, (await device.InitAsync("MX7-MIDWAY")).ExitCode);
        await using var agent = device.StartConnect(null, "--host", cable.Address, "--keepalive-timeout", "3", "--connect-timeout", "2", "--interval", "0.5");
        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object);

        var big = TestData.Bytes(31, 200 * MiB);
        await device.PlaceFileAsync("video.bin", big);
        await device.WaitForStatusAsync(s => s.GetProperty("phase").GetString() == "uploading" && s.GetProperty("progress").GetProperty("wireBytesSent").GetInt64() > 16 * MiB);
        host.Process.Suspend();
        try
        {
            // The read times out, then reconnects time out in their handshake: the agent goes on.
            await device.WaitForStatusAsync(s => s.GetProperty("failures").GetInt32() >= 2, TimeSpan.FromSeconds(60));
            Assert.False(agent.HasExited, agent.Stdout + agent.Stderr);
        }
        finally
        {
            host.Process.Resume();
        }

        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").GetProperty("snapshot").GetInt64() == 2, TimeSpan.FromMinutes(2));
        var restored = Path.Combine(_folder.Path, "restored");
        Assert.Equal(0, (await host.RunAsync("host", "restore", "MX7-MIDWAY", "--to", restored)).ExitCode);
        var back = await File.ReadAllBytesAsync(Directory.GetFiles(restored, "video.bin", SearchOption.AllDirectories).Single());
        Assert.True(big.AsSpan().SequenceEqual(back), "the restored video.bin differs from the device's");
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task An_idle_device_notices_a_stopped_host_within_its_keepalive_timeout()
    {
        await using var host = await StartHostAsync();
        var device = new TestDevice(_folder.Path, "idle");
        Assert.Equal(0, (await device.InitAsync("MX7-IDLE")).ExitCode);
        await using var agent = device.StartConnect(null, "--host", host.Address, "--keepalive-timeout", "3", "--connect-timeout", "2", "--interval", "0.5");
        await device.WaitForStatusAsync(s => s.GetProperty("lastBackup").ValueKind == JsonValueKind.Object && s.GetProperty("phase").GetString() == "idle");

        host.Process.Suspend();
        JsonElement noticed;
        try
        {
            // Nothing changes on the device: only listening while idle can tell the host is gone.
            noticed = await device.WaitForStatusAsync(s => !s.GetProperty("connected").GetBoolean(), TimeSpan.FromSeconds(30));
        }
        finally
        {
            host.Process.Resume();
        }

        Assert.Contains("stopped answering while the session was idle", noticed.GetProperty("lastError").GetString());
        Assert.Contains("silent for 3 s", noticed.GetProperty("lastError").GetString());
        await device.WaitForStatusAsync(s => s.GetProperty("connected").GetBoolean(), TimeSpan.FromSeconds(60));
        Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private Task<RunningHost> StartHostAsync() =>
        RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--keepalive-timeout", "3"]);

    public void Dispose() => _folder.Dispose();
}
