using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// One error discipline: a command line that does not parse exits 2 with one short line and a
/// "did you mean", never the whole help; --json errors are JSON on stderr; what host config
/// accepts, host run accepts; an expected failure (a port taken, an address that is no Cradle
/// host) is one line, never a stack trace.
/// </summary>
public sealed class ErrorDisciplineTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("device connect --onse", "'cradle device connect' has no option --onse", "did you mean '--once'?")]
    [InlineData("host snapshot", "'cradle host' has no command 'snapshot'", "did you mean 'snapshots'?")]
    [InlineData("host get-connected --listen 3", "'cradle host get-connected' has no option --listen any more: it is --wait now", "did you mean '--wait'?")]
    [InlineData("host prune --keep-last many", "--keep-last 'many': give a whole number", "run 'cradle host prune --help' for its usage")]
    [InlineData("host restore MX7-01", "'cradle host restore' needs --to DIR or --to-device", "run 'cradle host restore --help' for its usage")]
    [InlineData("host", "'cradle host' needs a command: run, config", "run 'cradle host --help' for its usage")]
    [InlineData("device folders ad /data", "'cradle device folders' has no command 'ad'", "did you mean 'add'?")]
    public async Task A_command_line_that_does_not_parse_exits_2_with_a_short_message_and_a_hint(string line, string message, string hint)
    {
        var result = await CradleProcess.RunAsync(line.Split(' '));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"error: {message}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(hint, result.Stderr, StringComparison.Ordinal);
        Assert.True(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 2, result.Stderr);
        Assert.DoesNotContain("Options:", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_json_every_error_is_a_json_object_on_stderr()
    {
        var usage = await CradleProcess.RunAsync("host", "devices", "--json", "--bogus");
        var store = await CradleProcess.RunAsync("host", "devices", "--json", "--data", _folder["nothing"]);
        var device = await CradleProcess.RunAsync("device", "status", "--json", "--state", _folder["nothing"]);

        foreach (var (result, kind, code) in new[] { (usage, "usage", 2), (store, "usage", 2), (device, "failed", 1) })
        {
            Assert.True(result.ExitCode == code, result.ToString());
            Assert.Empty(result.Stdout);
            var error = JsonDocument.Parse(result.Stderr).RootElement;
            Assert.Equal((kind, code), (error.GetProperty("kind").GetString(), error.GetProperty("exitCode").GetInt32()));
            Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetString()));
        }

        Assert.Contains("run 'cradle host devices --help' for its usage", JsonDocument.Parse(usage.Stderr).RootElement.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_run_takes_a_name_in_listen_as_host_config_does()
    {
        var data = _folder["host"];
        var config = await CradleProcess.RunAsync("host", "config", "--data", data, "--listen", "localhost:0", "--json");
        Assert.True(config.ExitCode == 0, config.ToString());

        await using var host = CradleProcess.Start("host", "run", "--data", data, "--listen", "localhost:0", "--http", "off", "--auto-approve");
        var address = await host.ListeningAddressAsync();
        Assert.StartsWith("127.0.0.1:", address, StringComparison.Ordinal);
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-09")).ExitCode);
        var backup = await device.RunAsync("connect", "--host", "localhost:" + address.Split(':')[1], "--once");
        Assert.True(backup.ExitCode == 0, backup.ToString());

        var unresolvable = await CradleProcess.RunAsync("host", "run", "--data", _folder["other"], "--listen", "no-such-name.invalid:5679", "--http", "off");
        Assert.True(unresolvable.ExitCode == 2, unresolvable.ToString());
        Assert.Contains("--listen: host:listen = 'no-such-name.invalid:5679' is not allowed: the name 'no-such-name.invalid' does not resolve", unresolvable.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", unresolvable.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_port_is_one_line_for_sessions_and_for_the_dashboard_never_a_stack_trace()
    {
        await using var first = await RunningHost.StartAsync(_folder.Path, "first");
        var dashboard = await first.Process.DashboardAddressAsync();

        var sessions = await CradleProcess.RunAsync("host", "run", "--data", _folder["second"], "--listen", first.Address, "--http", "off");
        Assert.True(sessions.ExitCode == 1, sessions.ToString());
        Assert.Contains($"error: cannot listen on {first.Address}: Address already in use (another program, or another Cradle host); choose another with --listen ADDR:PORT", sessions.Stderr, StringComparison.Ordinal);

        var web = await CradleProcess.RunAsync("host", "run", "--data", _folder["third"], "--listen", "127.0.0.1:0", "--http", $"127.0.0.1:{dashboard.Port}");
        Assert.True(web.ExitCode == 1, web.ToString());
        Assert.Contains($"error: the dashboard cannot listen on 127.0.0.1:{dashboard.Port}: the port is in use (another program, or another Cradle host); choose another with --http ADDR:PORT, or --http off", web.Stderr, StringComparison.Ordinal);
        foreach (var output in new[] { sessions.Stdout + sessions.Stderr, web.Stdout + web.Stderr })
        {
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_device_pointed_at_something_else_hears_that_it_is_not_a_Cradle_host()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-10")).ExitCode);

        // The dashboard's port: a web server, in plain text.
        var dashboard = await host.Process.DashboardAddressAsync();
        var web = await device.RunAsync("connect", "--host", $"127.0.0.1:{dashboard.Port}", "--once");
        Assert.True(web.ExitCode == 1, web.ToString());
        Assert.Contains($"error: 127.0.0.1:{dashboard.Port} is not a Cradle host: it answered 'HTTP/1.1 400 Bad Request' instead of starting TLS; check the address and port", web.Stderr, StringComparison.Ordinal);

        // A TLS server that is not Cradle: its certificate says whose it is.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serving = ServeTlsAsync(listener);
        var tls = await device.RunAsync("connect", "--host", $"127.0.0.1:{port}", "--once");
        Assert.True(tls.ExitCode == 1, tls.ToString());
        Assert.Contains($"127.0.0.1:{port} is not a Cradle host: it speaks TLS, but its certificate is 'CN=intranet.example'", tls.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("try again", web.Stderr + tls.Stderr, StringComparison.Ordinal);
        listener.Stop();
        await serving;
    }

    /// <summary>A TLS service that answers whatever comes with a line of its own, then hangs up.</summary>
    private static async Task ServeTlsAsync(TcpListener listener)
    {
        using var certificate = TestCertificates.SelfSigned("CN=intranet.example");
        try
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await ssl.AuthenticateAsServerAsync(certificate);
            var buffer = new byte[1024];
            _ = await ssl.ReadAsync(buffer);
            await ssl.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // The device hung up first: what it printed is what the test checks.
        }
    }
}
