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

    /// <summary>Starts a host on this data folder (again, after a crash, say).</summary>
    public static async Task<RunningHost> StartOnAsync(string data, string name, bool autoApprove = true)
    {
        var args = new List<string> { "host", "run", "--data", data, "--listen", "127.0.0.1:0", "--name", name };
        if (autoApprove)
        {
            args.Add("--auto-approve");
        }

        var process = CradleProcess.Start([.. args]);
        var address = await process.ListeningAddressAsync();
        return new RunningHost(process, data, address, name);
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

    public Task<CradleProcess.Result> BackUpOnceAsync(RunningHost host) => RunAsync("connect", "--host", host.Address, "--once");
}
