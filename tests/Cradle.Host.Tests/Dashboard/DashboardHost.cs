using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Cradle.Device;
using Cradle.Host.Dashboard;
using Cradle.Links;

namespace Cradle.Host.Tests.Dashboard;

/// <summary>A real host (real store in a temp folder, sessions on 127.0.0.1 port 0) with its dashboard on Kestrel, in-process.</summary>
internal sealed class DashboardHost : IAsyncDisposable
{
    private readonly Cradle.Tests.TempFolder _folder;

    private DashboardHost(Cradle.Tests.TempFolder folder, HostService service, DashboardServer dashboard, HttpClient client)
    {
        _folder = folder;
        Service = service;
        Dashboard = dashboard;
        Client = client;
    }

    public HostService Service { get; }

    public DashboardServer Dashboard { get; }

    /// <summary>A client of the dashboard that sends the page's cross-site header and the token.</summary>
    public HttpClient Client { get; }

    public string Folder => _folder.Path;

    public static async Task<DashboardHost> StartAsync(bool autoApprove = true, string http = "127.0.0.1:0")
    {
        var folder = new Cradle.Tests.TempFolder();
        var options = new HostOptions { DataFolder = Path.Combine(folder.Path, "host"), Listen = new LinkAddress("127.0.0.1", 0), Name = "test-host", AutoApprove = autoApprove };
        var service = await HostService.OpenAsync(options);
        service.Start();
        var dashboard = await DashboardServer.StartAsync(service, new DashboardOptions { Address = DashboardOptions.ParseAddress(http)! }, null, CancellationToken.None);
        var client = new HttpClient { BaseAddress = Reachable(dashboard.Address) };
        client.DefaultRequestHeaders.Add(DashboardServer.RequestHeader, "1");
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", dashboard.RevealToken());
        return new DashboardHost(folder, service, dashboard, client);
    }

    /// <summary>The address to connect to: a wildcard binding is reached on loopback.</summary>
    public static Uri Reachable(Uri address) =>
        address.Host is "0.0.0.0" or "[::]" ? new UriBuilder(address) { Host = "127.0.0.1" }.Uri : address;

    /// <summary>A device with these files (relative path to content) in a data folder labelled "data".</summary>
    public TestDevice Device(string name, IReadOnlyDictionary<string, byte[]> files)
    {
        var root = Path.Combine(_folder.Path, "device-" + name);
        var data = Path.Combine(root, "data");
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(data, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, content);
        }

        Directory.CreateDirectory(data);
        var state = new DeviceState(Path.Combine(root, "state"));
        state.Initialize(name, [data]);
        return new TestDevice(state, data, new NetworkRoute(Service.BoundAddress!));
    }

    public async Task<T> GetAsync<T>(string path) =>
        (await Client.GetFromJsonAsync<T>(path, JsonOptions))!;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Dashboard.DisposeAsync();
        await Service.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary>A device in-process: its state, its data folder, the way to the host.</summary>
internal sealed record TestDevice(DeviceState State, string Data, HostRoute Route)
{
    public Task<BackupResult> BackUpAsync(ISessionObserver? observer = null, CancellationToken cancellationToken = default) =>
        new DeviceAgent(State, Route, LoopbackHost.Trusting(null), observer ?? new QuietObserver()).RunOnceAsync(cancellationToken);

    private sealed class QuietObserver : ISessionObserver;
}

internal static class HttpAssert
{
    public static async Task StatusAsync(HttpStatusCode expected, HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected} {expected}, got {(int)response.StatusCode} {response.StatusCode}: {body}");
    }
}
