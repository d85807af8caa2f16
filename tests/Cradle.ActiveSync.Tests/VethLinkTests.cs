using System.Net;
using Cradle.ActiveSync.Dccm;
using Cradle.ActiveSync.Emulator;
using Cradle.ActiveSync.Partners;
using Cradle.ActiveSync.Walk;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The emulated device as its own process in its own network namespace, at the far end of a veth
/// pair: real TCP to port 990 on a real interface that goes down and comes back like a USB cable.
/// </summary>
[Collection(VethCollection.Name)]
public sealed class VethLinkTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_device_across_a_veth_is_triggered_and_serves_listing_reads_writes_and_registry_on_port_990()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create();
        var content = TestData.Bytes(21, 700_000);
        WriteDeviceFile(temp, @"My Documents\scan.bin", content);
        await using var emulator = await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, cable), temp["emulator.json"]);
        var options = new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(200) };
        await using var listener = cable.InHostNamespace(() => ActiveSyncListener.Start(new IPEndPoint(IPAddress.Parse(VethCable.HostAddress), ActiveSyncListener.DccmPort), options));

        await listener.SendTriggerAsync(IPAddress.Parse(VethCable.DeviceAddress));
        await using var channel = await listener.AcceptDeviceAsync().AsTask().WaitAsync(Patience);
        var run = channel.RunAsync();
        await using var rapi = await channel.OpenRapiSessionAsync();

        Assert.Equal(VethCable.DeviceAddress, channel.RemoteEndPoint!.Address.ToString());
        Assert.Equal("MX7_VETH", channel.Info.Name);
        var listing = await rapi.FindAllFilesAsync(@"\My Documents\*.*");
        Assert.Equal(content.Length, Assert.Single(listing).Size);
        Assert.Equal(content, await RapiClientTests.ReadAllAsync(rapi, @"\My Documents\scan.bin", content.Length, options));

        var handle = await rapi.CreateFileAsync(@"\My Documents\restored.bin", Rapi.CeFileAccess.GenericWrite, 0, Rapi.CeFileAccess.CreateAlways);
        await rapi.WriteFileAsync(handle, content.AsMemory(0, 50_000));
        await rapi.CloseHandleAsync(handle);
        Assert.Equal(content[..50_000], await File.ReadAllBytesAsync(temp[Path.Combine("device", "My Documents", "restored.bin")]));

        await ActiveSyncPartnerships.WriteSlotAsync(rapi, 1, 0x0BAD_F00D, "cradle-host");
        Assert.Equal(0x0BAD_F00Du, (await ActiveSyncPartnerships.ReadAsync(rapi)).Current?.PartnerId);
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("pings") >= 2, "keepalives across the veth");
        Assert.Equal(1, await emulator.CounterAsync("control-connections"));
        Assert.Equal(1, await emulator.CounterAsync("rapi-sessions"));
        Assert.False(run.IsCompleted);
    }

    [Fact]
    public async Task The_cable_pulled_mid_read_ends_the_session_cleanly_and_the_next_connection_reads_it_all()
    {
        Assert.Null(VethCable.Unavailable());
        using var temp = new TempFolder();
        using var cable = VethCable.Create(rate: "8mbit");
        var content = TestData.Bytes(22, 3_000_000);
        WriteDeviceFile(temp, @"My Documents\big.bin", content);
        await using var emulator = await EmulatorProcess.StartAsync(cable.DeviceNamespace, DeviceOptions(temp, cable) with { CarrierInterface = cable.DeviceInterface }, temp["emulator.json"]);
        var options = new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(300), KeepaliveMisses = 3, ReplyTimeout = TimeSpan.FromSeconds(3) };
        await using var listener = cable.InHostNamespace(() => ActiveSyncListener.Start(new IPEndPoint(IPAddress.Parse(VethCable.HostAddress), ActiveSyncListener.DccmPort), options));

        await listener.SendTriggerAsync(IPAddress.Parse(VethCable.DeviceAddress));
        var channel = await listener.AcceptDeviceAsync().AsTask().WaitAsync(Patience);
        var run = channel.RunAsync();
        var rapi = await channel.OpenRapiSessionAsync();
        var reader = await DeviceFileReader.OpenAsync(rapi, @"\My Documents\big.bin", content.Length, options);
        var reading = reader.CopyToAsync(Stream.Null);
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("file-bytes-sent") > 300_000, "a part of the file to cross the cable");
        // The host ends a session on missed keepalives only for a device that has answered one
        // (some never do; for those the interface going away is the cable-out signal). Under load
        // the part above can cross before the first ping's answer: wait for it.
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("pings") >= 2, "the device to answer keepalives");

        cable.Unplug();

        var e = await Assert.ThrowsAsync<LinkClosedException>(() => reading.WaitAsync(Patience));
        Assert.True(e.IsTransient);
        var reason = await run.WaitAsync(Patience);
        Assert.Equal(DccmState.Closed, channel.State);
        Assert.False(string.IsNullOrEmpty(reason));
        await reader.DisposeAsync();
        await rapi.DisposeAsync();
        await channel.DisposeAsync();

        cable.Plug();
        await LoopbackRig.WaitForAsync(async () => await emulator.CounterAsync("carrier-back") >= 1, "the device to see its carrier again");
        DccmControlChannel? again = null;
        for (var attempt = 0; again is null && attempt < 60; attempt++)
        {
            // A host triggers again while the interface is up and no device is connected.
            await listener.SendTriggerAsync(IPAddress.Parse(VethCable.DeviceAddress));
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                again = await listener.AcceptDeviceAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Not yet: trigger again.
            }
        }

        Assert.NotNull(again);
        await using (again)
        await using (var rapi2 = await again.OpenRapiSessionAsync())
        {
            Assert.Equal(content, await RapiClientTests.ReadAllAsync(rapi2, @"\My Documents\big.bin", content.Length, options).WaitAsync(Patience));
        }

        Assert.Equal(2, await emulator.CounterAsync("control-connections"));
        Assert.Equal(1, await emulator.CounterAsync("carrier-lost"));
    }

    private static EmulatorOptions DeviceOptions(TempFolder temp, VethCable cable) => new()
    {
        FilesRoot = temp["device"],
        RegistryFile = temp["registry.json"],
        Name = "MX7_VETH",
        HostAddress = VethCable.HostAddress,
        HostPort = ActiveSyncListener.DccmPort,
        TriggerAddress = VethCable.DeviceAddress,
        TriggerPort = ActiveSyncListener.TriggerPort,
    };

    private static void WriteDeviceFile(TempFolder temp, string relative, byte[] content)
    {
        var path = temp[Path.Combine(["device", .. relative.Split('\\')])];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }
}
