using System.Net;
using Cradle.ActiveSync.Dccm;
using Cradle.ActiveSync.Emulator;
using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The host side (a real <see cref="ActiveSyncListener"/> on 127.0.0.1, port 0) and the emulated
/// device in-process, over real loopback TCP: the trigger goes out as UDP, the device connects back.
/// </summary>
internal sealed class LoopbackRig : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly List<IAsyncDisposable> _owned = [];

    private LoopbackRig(TempFolder temp, EmulatedDevice device, ActiveSyncListener listener, ActiveSyncOptions options)
    {
        Temp = temp;
        Device = device;
        Listener = listener;
        Options = options;
    }

    public TempFolder Temp { get; }

    public EmulatedDevice Device { get; }

    public ActiveSyncListener Listener { get; }

    public ActiveSyncOptions Options { get; }

    public EmulatorCounters Counters => Device.Counters;

    /// <summary>The device's root folder on this machine.</summary>
    public string Root => Device.FileSystem.Root;

    public static LoopbackRig Start(Func<EmulatorOptions, EmulatorOptions>? configure = null, ActiveSyncOptions? options = null, TempFolder? temp = null)
    {
        temp ??= new TempFolder();
        options ??= new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero };
        var listener = ActiveSyncListener.Start(new IPEndPoint(IPAddress.Loopback, 0), options);
        var emulator = new EmulatorOptions
        {
            FilesRoot = temp["device"],
            RegistryFile = temp["registry.json"],
            HostAddress = "127.0.0.1",
            HostPort = listener.LocalEndPoint.Port,
            TriggerAddress = "127.0.0.1",
            TriggerPort = 0,
        };
        var device = new EmulatedDevice(configure?.Invoke(emulator) ?? emulator);
        device.Start();
        Directory.CreateDirectory(Path.Combine(device.FileSystem.Root, "My Documents"));
        return new LoopbackRig(temp, device, listener, options);
    }

    /// <summary>Sends the trigger and returns the device's control channel once its handshake is done.</summary>
    public async Task<DccmControlChannel> ConnectAsync()
    {
        await Listener.SendTriggerAsync(IPAddress.Loopback, Device.TriggerEndPoint!.Port);
        var channel = await Listener.AcceptDeviceAsync().AsTask().WaitAsync(Patience);
        _owned.Add(channel);
        return channel;
    }

    /// <summary>Connects an unlocked device and opens one RAPI session.</summary>
    public async Task<(DccmControlChannel Channel, RapiClient Rapi)> ConnectRapiAsync()
    {
        var channel = await ConnectAsync();
        var rapi = await OpenAsync(channel);
        return (channel, rapi);
    }

    public async Task<RapiClient> OpenAsync(DccmControlChannel channel)
    {
        var rapi = await channel.OpenRapiSessionAsync().AsTask().WaitAsync(Patience);
        _owned.Add(rapi);
        return rapi;
    }

    /// <summary>Waits (up to <see cref="Patience"/>) for something the device does on its own time.</summary>
    public static Task WaitForAsync(Func<bool> condition, string what) => WaitForAsync(() => Task.FromResult(condition()), what);

    public static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {Patience.TotalSeconds} s for {what}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>A file on the device: <c>\My Documents\a.txt</c> → its path here.</summary>
    public string HostPath(string devicePath) => Path.Combine([Root, .. devicePath.Split('\\', StringSplitOptions.RemoveEmptyEntries)]);

    public string WriteFile(string devicePath, byte[] content, DateTime? lastWriteUtc = null)
    {
        var path = HostPath(devicePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, lastWriteUtc ?? new DateTime(2024, 3, 1, 8, 30, 15, DateTimeKind.Utc));
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await Listener.DisposeAsync();
        await Device.DisposeAsync();
        Temp.Dispose();
    }
}
