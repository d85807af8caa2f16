namespace Cradle.EndToEnd.Tests;

/// <summary>A running <c>cradle host run</c> on 127.0.0.1, a free port, in its own folder.</summary>
public sealed class RunningHost : IAsyncDisposable
{
    private RunningHost(CradleProcess process, string data, string address, string name)
    {
        Process = process;
        Data = data;
        Address = address;
        Name = name;
    }

    public CradleProcess Process { get; }

    public string Data { get; }

    public string Address { get; }

    public string Name { get; }

    public static Task<RunningHost> StartAsync(string folder, string name, bool autoApprove = true) =>
        StartOnAsync(Path.Combine(folder, "host-" + name), name, autoApprove);

    /// <summary>Starts a host on this data folder (again, after a crash, say), with extra <c>host run</c> arguments, in a network namespace if given.</summary>
    public static async Task<RunningHost> StartOnAsync(string data, string name, bool autoApprove = true, string[]? extra = null, string? netns = null)
    {
        // A free port for the dashboard too: parallel tests never share the default 5680.
        var args = new List<string> { "host", "run", "--data", data, "--listen", "127.0.0.1:0", "--name", name };
        if (extra is null || !extra.Contains("--http"))
        {
            args.AddRange(["--http", "127.0.0.1:0"]);
        }

        if (autoApprove)
        {
            args.Add("--auto-approve");
        }

        args.AddRange(extra ?? []);
        var process = CradleProcess.StartIn(netns, [.. args]);
        var address = await process.ListeningAddressAsync();
        return new RunningHost(process, data, address, name);
    }

    /// <summary>The dashboard's token, as the operator gets it (cradle host http-token).</summary>
    public async Task<string> DashboardTokenAsync()
    {
        var token = await RunAsync("host", "http-token");
        Assert.True(token.ExitCode == 0, token.ToString());
        return token.Stdout.Trim();
    }

    /// <summary>A client of the dashboard's API with the token and the page's header.</summary>
    public async Task<HttpClient> DashboardClientAsync()
    {
        var client = new HttpClient { BaseAddress = await Process.DashboardAddressAsync() };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await DashboardTokenAsync());
        return client;
    }

    /// <summary>Runs a host subcommand against this host's folder.</summary>
    public Task<CradleProcess.Result> RunAsync(params string[] args) =>
        CradleProcess.RunAsync([.. args, "--data", Data]);

    public async ValueTask DisposeAsync() => await Process.DisposeAsync();
}

/// <summary>A device's state folder driven through the real executable.</summary>
public sealed class TestDevice(string folder, string label)
{
    public string State { get; } = Path.Combine(folder, "state-" + label);

    public string DataFolder { get; } = Path.Combine(folder, "data-" + label);

    public Task<CradleProcess.Result> RunAsync(params string[] args) =>
        CradleProcess.RunAsync(["device", .. args, "--state", State]);

    public async Task<CradleProcess.Result> InitAsync(string name)
    {
        Directory.CreateDirectory(DataFolder);
        if (!Directory.EnumerateFileSystemEntries(DataFolder).Any())
        {
            File.WriteAllText(Path.Combine(DataFolder, "scan.log"), $"{name} was here\n");
        }

        return await RunAsync("init", "--name", name, "--folder", DataFolder);
    }

    /// <summary>
    /// Puts a file into the data folder whole, as a copy finishing into place does: written
    /// beside it first, then renamed. A running agent that polls every half second would
    /// otherwise scan it half written and back up a snapshot that holds half of it.
    /// </summary>
    public async Task PlaceFileAsync(string name, byte[] contents)
    {
        var staging = Path.Combine(Path.GetDirectoryName(DataFolder)!, $".placing-{label}-{name}");
        await File.WriteAllBytesAsync(staging, contents);
        File.Move(staging, Path.Combine(DataFolder, name));
    }

    public Task<CradleProcess.Result> BackUpOnceAsync(RunningHost host) => RunAsync("connect", "--host", host.Address, "--once");

    /// <summary>Starts <c>cradle device connect</c> (staying connected) with these link arguments.</summary>
    public CradleProcess StartConnect(string? netns, params string[] args) =>
        CradleProcess.StartIn(netns, ["device", "connect", "--state", State, .. args]);

    /// <summary>Polls <c>cradle device status --json</c> until the condition holds.</summary>
    public async Task<System.Text.Json.JsonElement> WaitForStatusAsync(Func<System.Text.Json.JsonElement, bool> condition, TimeSpan? timeout = null)
    {
        System.Text.Json.JsonElement last = default;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            var result = await RunAsync("status", "--json");
            if (result.ExitCode == 0)
            {
                last = System.Text.Json.JsonDocument.Parse(result.Stdout).RootElement;
                if (condition(last))
                {
                    return last;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the device status never met the condition; last: {last}");
    }
}
