using System.Net;
using System.Net.Http.Headers;
using Cradle.Host.Dashboard;

namespace Cradle.Host.Tests.Dashboard;

/// <summary>
/// Who may use the dashboard: only with the token, on loopback too (which answers to loopback
/// names only); and nothing changes without the page's header and a matching origin.
/// </summary>
public sealed class DashboardAccessTests
{
    [Fact]
    public async Task Beyond_loopback_a_request_without_the_token_is_refused()
    {
        // The rule is about the binding: 0.0.0.0 is not loopback, even when reached on 127.0.0.1.
        await using var host = await DashboardHost.StartAsync(http: "0.0.0.0:0");
        Assert.True(host.Dashboard.RequiresToken);
        Assert.True(host.Dashboard.TokenCreated);
        var token = host.Dashboard.RevealToken()!;
        using var anonymous = new HttpClient { BaseAddress = host.Client.BaseAddress };

        foreach (var path in new[] { "/", "/assets/app.js", "api/v1/devices", "api/v1/events" })
        {
            await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, await anonymous.GetAsync(path));
        }

        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-" + token);
        await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, await anonymous.GetAsync("api/v1/devices"));
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await anonymous.GetAsync("api/v1/devices"));
    }

    [Fact]
    public async Task Opening_the_page_with_the_token_sets_a_strict_cookie_that_the_page_then_uses()
    {
        await using var host = await DashboardHost.StartAsync(http: "0.0.0.0:0");
        var token = host.Dashboard.RevealToken()!;
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true };
        using var browser = new HttpClient(handler) { BaseAddress = host.Client.BaseAddress };

        using var login = await browser.GetAsync($"/?token={Uri.EscapeDataString(token)}");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/", login.Headers.Location?.ToString());
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);

        await HttpAssert.StatusAsync(HttpStatusCode.OK, await browser.GetAsync("/"));
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await browser.GetAsync("api/v1/health"));
        await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, await browser.GetAsync("/?token=wrong"));
    }

    [Fact]
    public async Task A_rotated_token_replaces_the_old_one_in_a_running_host()
    {
        await using var host = await DashboardHost.StartAsync(http: "0.0.0.0:0");
        var old = host.Dashboard.RevealToken()!;
        var fresh = HttpToken.Rotate(host.Service.Store.Folder);
        Assert.NotEqual(old, fresh);
        Assert.True(fresh.Length >= 43, fresh);

        using var client = new HttpClient { BaseAddress = host.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", old);
        await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, await client.GetAsync("api/v1/devices"));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fresh);
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await client.GetAsync("api/v1/devices"));
    }

    [Fact]
    public async Task The_token_file_is_readable_by_its_owner_only_and_kept_across_starts()
    {
        string token;
        string path;
        await using (var host = await DashboardHost.StartAsync(http: "0.0.0.0:0"))
        {
            token = host.Dashboard.RevealToken()!;
            path = host.Dashboard.TokenPath!;
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            var again = HttpToken.LoadOrCreate(host.Service.Store.Folder, out var created);
            Assert.False(created);
            Assert.Equal(token, again.Reveal());
        }
    }

    [Fact]
    public async Task On_loopback_the_token_is_needed_too()
    {
        // Loopback is open to every user of the machine; the token file is the host user's alone.
        await using var host = await DashboardHost.StartAsync();
        Assert.True(host.Dashboard.RequiresToken);
        Assert.True(File.Exists(HttpToken.PathIn(host.Service.Store.Folder)));
        using var anonymous = new HttpClient { BaseAddress = host.Client.BaseAddress };
        foreach (var path in new[] { "/", "api/v1/devices", "api/v1/pending" })
        {
            await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, await anonymous.GetAsync(path));
        }

        anonymous.DefaultRequestHeaders.Add(DashboardServer.RequestHeader, "1");
        await HttpAssert.StatusAsync(HttpStatusCode.Unauthorized, await anonymous.PostAsync("api/v1/pending/123456/approve", null));
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await host.Client.GetAsync("api/v1/devices"));
    }

    [Fact]
    public async Task On_loopback_a_request_for_another_host_name_is_refused()
    {
        // A page that rebinds its own DNS name to 127.0.0.1 sends its name, not a loopback one.
        await using var host = await DashboardHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/devices");
        request.Headers.Host = "attacker.example";
        await HttpAssert.StatusAsync(HttpStatusCode.Forbidden, await host.Client.SendAsync(request));
        using var local = new HttpRequestMessage(HttpMethod.Get, "api/v1/devices");
        local.Headers.Host = $"localhost:{host.Dashboard.Address.Port}";
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await host.Client.SendAsync(local));
    }

    [Fact]
    public async Task A_state_changing_request_needs_the_page_header_and_a_matching_origin()
    {
        await using var host = await DashboardHost.StartAsync();
        await host.Device("MX7-01", new Dictionary<string, byte[]> { ["f"] = [1, 2, 3] }).BackUpAsync();
        using var plain = new HttpClient { BaseAddress = host.Client.BaseAddress };
        plain.DefaultRequestHeaders.Authorization = host.Client.DefaultRequestHeaders.Authorization;

        // What a cross-site form could send (with the cookie a browser would add): no custom header.
        await HttpAssert.StatusAsync(HttpStatusCode.Forbidden, await plain.DeleteAsync("api/v1/devices/MX7-01"));
        using var foreign = new HttpRequestMessage(HttpMethod.Delete, "api/v1/devices/MX7-01");
        foreign.Headers.Add(DashboardServer.RequestHeader, "1");
        foreign.Headers.Add("Origin", "http://attacker.example");
        await HttpAssert.StatusAsync(HttpStatusCode.Forbidden, await plain.SendAsync(foreign));
        Assert.Single(await host.GetAsync<List<DeviceRow>>("api/v1/devices"));

        using var own = new HttpRequestMessage(HttpMethod.Delete, "api/v1/devices/MX7-01");
        own.Headers.Add(DashboardServer.RequestHeader, "1");
        own.Headers.Add("Origin", $"http://{host.Dashboard.Address.Authority}");
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await plain.SendAsync(own));
        Assert.Empty(await host.GetAsync<List<DeviceRow>>("api/v1/devices"));
    }
}
