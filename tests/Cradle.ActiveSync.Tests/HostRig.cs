using System.Net;
using System.Net.Sockets;
using Cradle.ActiveSync.Emulator;
using Cradle.Host;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The real host service (store, registry, the ActiveSync interface watcher on <c>lo</c>) in this
/// process, and emulated devices that connect to it over loopback TCP, each with its own folder
/// and registry. The port is a free one, not 990, so the rig needs no privilege.
/// </summary>
internal sealed class HostRig : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<EmulatedDevice> _devices = [];

    private HostRig(TempFolder temp, HostService host, int port)
    {
        Temp = temp;
        Host = host;
        Port = port;
    }

    public TempFolder Temp { get; }

    public HostService Host { get; }

    public int Port { get; }

    public static async Task<HostRig> StartAsync(string hostName = "depot", IReadOnlyList<string>? folders = null, ActiveSyncOptions? options = null, TimeSpan? backupEvery = null)
    {
        var temp = new TempFolder();
        var port = FreePort();
        var host = await HostService.OpenAsync(new HostOptions
        {
            DataFolder = temp["host"],
            Listen = new Links.LinkAddress("127.0.0.1", 0),
            Name = hostName,
            ActiveSyncInterfaces = ["lo"],
            ActiveSyncPort = port,
            ActiveSyncFolders = folders ?? [],
            ActiveSync = options ?? new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(200) },
            ActiveSyncBackupEvery = backupEvery ?? HostOptions.DefaultActiveSyncBackupEvery,
        });
        host.Start();
        return new HostRig(temp, host, port);
    }

    /// <summary>A device named <paramref name="name"/> whose files and registry live under <paramref name="folder"/> of the rig's temp folder.</summary>
    public EmulatedDevice Device(string name, string folder, Func<EmulatorOptions, EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions
        {
            FilesRoot = Temp[Path.Combine(folder, "files")],
            RegistryFile = Temp[Path.Combine(folder, "registry.json")],
            Name = name,
            HostAddress = "127.0.0.1",
            HostPort = Port,
            TriggerAddress = "127.0.0.1",
            TriggerPort = 0,
        };
        var device = new EmulatedDevice(configure?.Invoke(options) ?? options);
        device.Start();
        Directory.CreateDirectory(Path.Combine(device.FileSystem.Root, "My Documents"));
        _devices.Add(device);
        return device;
    }

    /// <summary>Connects the device as a cradled one does (retrying until the host's listener is up) and waits for its session's outcome.</summary>
    public async Task<string> SyncAsync(EmulatedDevice device)
    {
        var known = Host.Sessions.Snapshot().Ended.Select(s => s.Id).ToHashSet();
        var before = device.Counters.ControlConnections;
        var deadline = DateTime.UtcNow + Patience;
        while (device.Counters.ControlConnections == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the device could not connect to the host");
            var run = device.ConnectAsync();
            await Task.WhenAny(run, Task.Delay(200));
        }

        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, "the device's session did not finish");
            var view = Host.Sessions.Snapshot();
            var live = view.Live.FirstOrDefault(s => s.Link == "activesync" && s.Phase == "connected");
            if (live is not null)
            {
                return "connected";
            }

            var ended = view.Ended.FirstOrDefault(s => s.Link == "activesync" && !known.Contains(s.Id));
            if (ended is not null)
            {
                return ended.Outcome ?? "";
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Unplugs the device (its connections close) and waits until the host has no session left for it.</summary>
    public async Task UnplugAsync(EmulatedDevice device)
    {
        device.Disconnect();
        await LoopbackRig.WaitForAsync(() => !device.IsConnected && Host.Sessions.Snapshot().Live.All(s => s.Link != "activesync"), "the device's session to end");
    }

    public List<SnapshotInfo> Snapshots(string device)
    {
        using var catalog = Host.Store.OpenCatalog();
        return catalog.ListSnapshots(DeviceName.Parse(device).Key);
    }

    public HostPartnership? Record(string device)
    {
        using var registry = PartnershipRegistry.Open(Host.Store.Database);
        return registry.Find(DeviceName.Parse(device));
    }

    /// <summary>Restores a snapshot into a new folder and returns it.</summary>
    public async Task<string> RestoreAsync(SnapshotInfo snapshot)
    {
        var target = Temp[$"restore-{Guid.NewGuid():N}"];
        using var reader = Host.Store.OpenReader();
        await new FolderRestorer(reader).RestoreAsync(snapshot, target, null, CancellationToken.None);
        return target;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        foreach (var device in _devices)
        {
            await device.DisposeAsync();
        }

        Temp.Dispose();
    }
}
