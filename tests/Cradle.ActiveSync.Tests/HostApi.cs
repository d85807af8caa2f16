using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Cradle.Host.Dashboard;

namespace Cradle.ActiveSync.Tests;

/// <summary>The host's dashboard API on loopback, and a client that sends what the CLI sends.</summary>
internal sealed class HostApi : IAsyncDisposable
{
    private readonly DashboardServer _dashboard;

    private HostApi(DashboardServer dashboard, HttpClient client)
    {
        _dashboard = dashboard;
        Client = client;
    }

    public HttpClient Client { get; }

    /// <summary>Where the dashboard answers.</summary>
    public Uri Address => _dashboard.Address;

    /// <summary>The dashboard's token (the operator's <c>cradle host http-token</c>).</summary>
    public string Token => _dashboard.RevealToken()!;

    public static async Task<HostApi> StartAsync(HostRig rig)
    {
        var dashboard = await DashboardServer.StartAsync(rig.Host, new DashboardOptions { Address = DashboardOptions.ParseAddress("127.0.0.1:0")! }, null, CancellationToken.None);
        var client = new HttpClient { BaseAddress = dashboard.Address, Timeout = HostRig.Patience };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", dashboard.RevealToken());
        return new HostApi(dashboard, client);
    }

    public async Task<(HttpStatusCode Status, string Body)> RenameAsync(string device, string newName, bool consent, string? connection = null)
    {
        using var request = Request(device, newName, connection, consent);
        request.Headers.Add(DashboardServer.RequestHeader, "test");
        using var response = await Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<HttpStatusCode> RenameWithoutGuardAsync(string device, string newName, bool header, string? origin)
    {
        using var request = Request(device, newName, null, consent: true);
        if (header)
        {
            request.Headers.Add(DashboardServer.RequestHeader, "test");
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await Client.SendAsync(request);
        return response.StatusCode;
    }

    private static HttpRequestMessage Request(string device, string newName, string? connection, bool consent) => new(HttpMethod.Post, "api/v1/activesync/rename")
    {
        Content = new StringContent(new JsonObject { ["device"] = device, ["newName"] = newName, ["connection"] = connection, ["consent"] = consent }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _dashboard.DisposeAsync();
    }
}
