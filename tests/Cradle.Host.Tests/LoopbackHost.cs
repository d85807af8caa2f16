using Cradle.Device;
using Cradle.Links;

namespace Cradle.Host.Tests;

/// <summary>A real host in this process on 127.0.0.1 (a free port), approving partnerships by itself, and device backups through it.</summary>
internal static class LoopbackHost
{
    public static async Task<HostService> StartAsync(string folder, string name, Func<HostOptions, HostOptions>? adjust = null)
    {
        var options = new HostOptions
        {
            DataFolder = folder,
            Listen = new LinkAddress("127.0.0.1", 0),
            Name = name,
            AutoApprove = true,
        };
        var host = await HostService.OpenAsync(adjust is null ? options : adjust(options));
        host.Start();
        return host;
    }

    /// <summary>One backup, as <c>cradle device connect --once</c> makes it.</summary>
    public static Task<BackupResult> BackUpAsync(this HostService host, DeviceState state, DeviceOptions? options = null, ISessionObserver? observer = null) =>
        new DeviceAgent(state, new NetworkRoute(host.BoundAddress!), Trusting(options), observer ?? new Quiet()).RunOnceAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>The device's options, trusting the test's own host unless the test says otherwise (a lab setup).</summary>
    public static DeviceOptions Trusting(DeviceOptions? options) =>
        options is { AcceptNewHost: not null } ? options : (options ?? new DeviceOptions()) with { AcceptNewHost = DeviceOptions.AnyHost };

    private sealed class Quiet : ISessionObserver;
}
