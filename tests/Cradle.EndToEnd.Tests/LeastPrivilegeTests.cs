using System.Diagnostics;
using System.Net;
using System.Text;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 19, hole 5: the host ran as root, and any local user could use the open loopback
/// dashboard to approve their own partnership, back up a file named authorized_keys and restore it
/// into /root/.ssh. Now the dashboard needs its token on loopback too, restores only inside its
/// restore root and never through a symbolic link, and the service runs as an unprivileged user
/// (ServiceUnitTests).
/// </summary>
public sealed class LeastPrivilegeTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_loopback_dashboard_needs_the_token_which_only_the_hosts_user_can_read()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot", autoApprove: false);
        var dashboard = await host.Process.DashboardAddressAsync();
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(dashboard.Host)));
        await using var waiting = await HostileClient.ConnectAsync(host.Address);
        var code = await waiting.RequestPartnershipAsync("LOCAL-USER", 0x0000_7777);

        // Another local user, on loopback, with the page's header: no token, no approval.
        using var local = new HttpClient { BaseAddress = dashboard };
        local.DefaultRequestHeaders.Add("X-Cradle-Request", "1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await local.GetAsync("api/v1/pending")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await local.PostAsync($"api/v1/pending/{code}/approve", null)).StatusCode);
        Assert.Single(System.Text.Json.JsonDocument.Parse((await host.RunAsync("host", "pending", "--json")).Stdout).RootElement.EnumerateArray());

        // The token is in a file only the host's user reads.
        var tokenFile = Path.Combine(host.Data, "http-token");
        Assert.False(await ReadsAsNobodyAsync(tokenFile), "another user can read the dashboard's token");
        using var operatorClient = await host.DashboardClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync("api/v1/pending")).StatusCode);
    }

    [Fact]
    public async Task Dashboard_restores_go_only_inside_the_restore_root_and_never_through_a_symbolic_link()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "keys");
        Directory.CreateDirectory(device.DataFolder);
        await File.WriteAllTextAsync(Path.Combine(device.DataFolder, "authorized_keys"), "ssh-ed25519 AAAA attacker@example\n");
        await device.InitAsync("KEYS-1");
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        using var api = await host.DashboardClientAsync();
        api.DefaultRequestHeaders.Add("X-Cradle-Request", "1");

        // Outside the root: an absolute folder (as /root/.ssh was), a way up, a link placed inside it.
        var outside = _folder["dot-ssh"];
        var root = Path.Combine(host.Data, "restores");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(_folder["elsewhere"]);
        File.CreateSymbolicLink(Path.Combine(root, "link"), _folder["elsewhere"]);
        foreach (var to in new[] { outside, "../../dot-ssh", "link", "link/inner", Path.Combine(root, "link", "inner") })
        {
            var refused = await api.PostAsync("api/v1/snapshots/1/restore", Body(to));
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{to}: {(int)refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
        }

        Assert.False(Directory.Exists(outside));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder["elsewhere"]));

        // Inside the root, by name: restored, and nowhere else.
        var done = await api.PostAsync("api/v1/snapshots/1/restore", Body("keys-restored"));
        Assert.True(done.IsSuccessStatusCode, await done.Content.ReadAsStringAsync());
        Assert.True(File.Exists(Path.Combine(root, "keys-restored", Path.GetFileName(device.DataFolder), "authorized_keys")));
    }

    private static StringContent Body(string to) =>
        new($"{{\"to\": \"{System.Text.Json.JsonEncodedText.Encode(to)}\"}}", Encoding.UTF8, "application/json");

    private static async Task<bool> ReadsAsNobodyAsync(string path)
    {
        using var read = Process.Start(new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await read.StandardOutput.ReadToEndAsync();
        await read.WaitForExitAsync();
        return read.ExitCode == 0;
    }
}
