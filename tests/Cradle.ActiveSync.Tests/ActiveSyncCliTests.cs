using Cradle.Host;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Tests;

/// <summary>The ActiveSync commands of the real <c>cradle</c> executable that need no device.</summary>
public sealed class ActiveSyncCliTests
{
    [Fact]
    public async Task Host_run_without_the_privilege_for_port_990_fails_at_start_with_the_CAP_NET_BIND_SERVICE_advice()
    {
        Assert.Equal("root", Environment.UserName); // setpriv drops to nobody from root
        using var temp = new TempFolder();
        var data = temp["host"];
        Directory.CreateDirectory(data);
        await RunAsync("chmod", "0711", temp.Path);
        await RunAsync("chown", "nobody:nogroup", data);

        var (exit, output) = await CradleHostProcess.CommandAsNobodyAsync("host", "run", "--data", data, "--listen", "127.0.0.1:0", "--http", "off", "--activesync", "lo");

        Assert.NotEqual(0, exit);
        Assert.Contains("port 990 is privileged", output, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_BIND_SERVICE", output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_activesync_password_is_read_from_standard_input_stored_for_the_host_never_echoed_and_can_be_cleared()
    {
        using var temp = new TempFolder();
        var data = temp["host"];
        using (PartnershipRegistry.Open((await Store.ChunkStore.OpenAsync(data)).Database))
        {
            // A host folder, as 'cradle host run' leaves it: the command refuses a folder without one.
        }

        const string Secret = "pw-4711-secret";

        var (exit, output) = await CradleHostProcess.CommandWithInputAsync(Secret, "host", "activesync-password", "Pocket_PC", "--data", data);

        Assert.True(exit == 0, output);
        Assert.DoesNotContain(Secret, output, StringComparison.Ordinal);
        Assert.Equal(Secret, StoredPassword(data));

        var (cleared, clearedOutput) = await CradleHostProcess.CommandAsync("host", "activesync-password", "Pocket_PC", "--clear", "--data", data);
        Assert.True(cleared == 0, clearedOutput);
        Assert.Null(StoredPassword(data));

        var (empty, emptyOutput) = await CradleHostProcess.CommandWithInputAsync("", "host", "activesync-password", "Pocket_PC", "--data", data);
        Assert.NotEqual(0, empty);
        Assert.Contains("no password given", emptyOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_host_service_unit_grants_CAP_NET_BIND_SERVICE_and_nothing_else_when_it_serves_ActiveSync_interfaces()
    {
        var (exit, unit) = await CradleHostProcess.CommandWithAsync(("CRADLE_HOST__ACTIVESYNC", "usb9"), "host", "install-service", "--print");
        Assert.True(exit == 0, unit);
        Assert.Contains("AmbientCapabilities=CAP_NET_BIND_SERVICE\n", unit, StringComparison.Ordinal);
        Assert.Contains("CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", unit, StringComparison.Ordinal);
        Assert.Contains("CRADLE_HOST__ACTIVESYNC=usb9", unit, StringComparison.Ordinal);

        var (_, plain) = await CradleHostProcess.CommandAsync("host", "install-service", "--print");
        Assert.DoesNotContain("AmbientCapabilities=CAP_NET_BIND_SERVICE", plain, StringComparison.Ordinal);
    }

    private static string? StoredPassword(string data)
    {
        using var registry = PartnershipRegistry.Open(Path.Combine(data, Store.ChunkStore.DatabaseFileName));
        return registry.ActiveSyncPassword(DeviceName.Parse("Pocket_PC"));
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(program, args);
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }
}
