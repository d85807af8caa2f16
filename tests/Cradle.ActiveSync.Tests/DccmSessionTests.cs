using System.Net;
using System.Net.Sockets;
using Cradle.ActiveSync.Dccm;
using Cradle.ActiveSync.Emulator;
using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Walk;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Tests;

/// <summary>The control connection: handshake, locks, keepalive, cable out, and a device that misbehaves.</summary>
public sealed class DccmSessionTests
{
    [Fact]
    public async Task The_handshake_answers_message_6_as_dccm_does_and_reads_the_info_message()
    {
        await using var rig = LoopbackRig.Start(o => o with { Model = "MX7 Tecton", Platforms = ["PocketPC"], OsMajor = 5, OsMinor = 1 });
        var channel = await rig.ConnectAsync();

        Assert.Equal(DccmState.Connected, channel.State);
        Assert.Equal("Pocket_PC", channel.Info.Name);
        Assert.Equal("MX7 Tecton", channel.Info.Model);
        Assert.Equal("PocketPC", channel.Info.Platform);
        Assert.Equal(DeviceLock.None, channel.Info.Lock);
        Assert.Contains("query6-answer 7,8,4,5", rig.Counters.Events);
    }

    [Fact]
    public async Task A_WM5_device_takes_its_password_once_sent_without_a_NUL()
    {
        await using var rig = LoopbackRig.Start(o => o with { Lock = EmulatedLock.Password, Password = "s3cret", PasswordKey = 0x7E31 });
        var channel = await rig.ConnectAsync();
        Assert.Equal(DccmState.Locked, channel.State);
        Assert.Equal(DeviceLock.Password, channel.Info.Lock);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await channel.OpenRapiSessionAsync());

        Assert.True(await channel.SendPasswordAsync("s3cret".AsMemory()));

        Assert.Equal(DccmState.Connected, channel.State);
        Assert.Equal(1, rig.Counters["password-attempts"]);
        Assert.Equal(0, rig.Counters["password-with-nul"]);
        var rapi = await rig.OpenAsync(channel);
        Assert.Empty(await rapi.FindAllFilesAsync(@"\My Documents\*.*"));
    }

    [Fact]
    public async Task A_wrong_password_leaves_the_device_locked_and_is_not_retried()
    {
        await using var rig = LoopbackRig.Start(o => o with { Lock = EmulatedLock.Password, Password = "s3cret" });
        var channel = await rig.ConnectAsync();

        Assert.False(await channel.SendPasswordAsync("guess".AsMemory()));

        Assert.Equal(DccmState.Locked, channel.State);
        Assert.Equal(1, rig.Counters["password-attempts"]);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await channel.OpenRapiSessionAsync());
    }

    [Fact]
    public async Task A_WM6_device_is_unlocked_on_its_screen_and_acknowledged_with_0_and_12()
    {
        await using var rig = LoopbackRig.Start(o => o with { Lock = EmulatedLock.UnlockOnDevice, UnlockAfterMs = 200 });
        var channel = await rig.ConnectAsync();
        Assert.Equal(DeviceLock.UnlockOnDevice, channel.Info.Lock);

        await channel.WaitForUnlockOnDeviceAsync();

        Assert.Equal(DccmState.Connected, channel.State);
        await LoopbackRig.WaitForAsync(() => rig.Counters.Events.Contains("unlock-ack 0,12"), "the device to see the acknowledgement");
        Assert.Empty(await (await rig.OpenAsync(channel)).FindAllFilesAsync(@"\My Documents\*.*"));
    }

    [Fact]
    public async Task A_WM6_device_nobody_unlocks_is_refused_with_the_way_out_after_the_timeout()
    {
        await using var rig = LoopbackRig.Start(o => o with { Lock = EmulatedLock.UnlockOnDevice, UnlockAfterMs = -1 },
            new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, UnlockOnDeviceTimeout = TimeSpan.FromMilliseconds(300) });
        var channel = await rig.ConnectAsync();

        var e = await Assert.ThrowsAsync<SessionRefusedException>(async () => await channel.WaitForUnlockOnDeviceAsync());

        Assert.Equal("locked", e.Rule);
        Assert.Contains("was not unlocked on its screen within 300 ms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_WM6_device_that_answers_the_unlock_with_a_refusal_is_refused()
    {
        await using var rig = LoopbackRig.Start(o => o with { Lock = EmulatedLock.UnlockOnDevice, UnlockAnswer = 5 });
        var channel = await rig.ConnectAsync();

        var e = await Assert.ThrowsAsync<SessionRefusedException>(async () => await channel.WaitForUnlockOnDeviceAsync());
        Assert.Contains("answered 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keepalives_are_answered_and_a_device_that_stops_answering_is_dropped()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(50), KeepaliveMisses = 3 });
        var channel = await rig.ConnectAsync();
        var run = channel.RunAsync();
        await LoopbackRig.WaitForAsync(() => rig.Counters["pings"] >= 3, "three keepalives");
        Assert.Equal(DccmState.Connected, channel.State);

        rig.Device.Faults.IgnorePings = true;
        var reason = await run.WaitAsync(LoopbackRig.Patience);

        Assert.Contains("stopped answering keepalives", reason, StringComparison.Ordinal);
        Assert.Equal(DccmState.Closed, channel.State);
    }

    [Fact]
    public async Task A_device_that_never_answered_a_keepalive_is_kept()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(30), KeepaliveMisses = 2 });
        rig.Device.Faults.IgnorePings = true;
        var channel = await rig.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var run = channel.RunAsync(stop.Token);

        await LoopbackRig.WaitForAsync(() => rig.Counters["pings"] >= 8, "eight unanswered keepalives");

        Assert.Equal(DccmState.Connected, channel.State);
        await stop.CancelAsync();
        Assert.Contains("stopped watching", await run.WaitAsync(LoopbackRig.Patience), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_that_vanishes_mid_read_ends_the_read_and_the_session_with_a_link_error()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, ReadBlockSize = 16384 });
        rig.WriteFile(@"\My Documents\big.bin", TestData.Bytes(5, 500_000));
        rig.Device.Faults.VanishAfterReadBytes = 100_000;
        var (channel, rapi) = await rig.ConnectRapiAsync();
        var run = channel.RunAsync();

        await using var reader = await DeviceFileReader.OpenAsync(rapi, @"\My Documents\big.bin", 500_000, rig.Options);
        var e = await Assert.ThrowsAsync<LinkClosedException>(async () => await reader.CopyToAsync(Stream.Null).WaitAsync(LoopbackRig.Patience));

        Assert.True(e.IsTransient);
        Assert.Equal(1, rig.Counters["vanished-mid-read"]);
        Assert.Contains("connection", await run.WaitAsync(LoopbackRig.Patience), StringComparison.Ordinal);
        Assert.True(rapi.IsBroken);
        await Assert.ThrowsAsync<LinkClosedException>(async () => await channel.OpenRapiSessionAsync());
    }

    [Fact]
    public async Task When_the_control_connection_ends_every_RAPI_session_of_the_device_ends_at_once()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, ReplyTimeout = TimeSpan.FromMinutes(5) });
        rig.Device.Faults.NeverReplyTo = "CeGetFileAttributes";
        var (channel, rapi) = await rig.ConnectRapiAsync();
        var waiting = rapi.GetFileAttributesAsync(@"\My Documents").AsTask();

        channel.Close("cable out (test)");

        var e = await Assert.ThrowsAsync<LinkClosedException>(() => waiting.WaitAsync(LoopbackRig.Patience));
        Assert.Contains("cable out (test)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_that_never_comes_ends_in_a_link_error_after_the_timeout_not_a_hang()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, ReplyTimeout = TimeSpan.FromMilliseconds(500) });
        rig.Device.Faults.NeverReplyTo = "CeFindAllFiles";
        var (_, rapi) = await rig.ConnectRapiAsync();

        var e = await Assert.ThrowsAsync<LinkClosedException>(async () => await rapi.FindAllFilesAsync(@"\*.*").AsTask().WaitAsync(LoopbackRig.Patience));

        Assert.Contains("did not send the CeFindAllFiles reply within 500 ms", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LinkClosedException>(async () => await rapi.GetFileAttributesAsync(@"\"));
    }

    [Fact]
    public async Task An_oversized_reply_length_is_refused_before_anything_is_allocated()
    {
        await using var rig = LoopbackRig.Start();
        rig.WriteFile(@"\My Documents\a.bin", [1, 2, 3]);
        rig.Device.Faults.OversizedReplyTo = "CeReadFile";
        var (_, rapi) = await rig.ConnectRapiAsync();
        var handle = await rapi.OpenReadAsync(@"\My Documents\a.bin");

        var e = await Assert.ThrowsAsync<ActiveSyncProtocolException>(async () => await rapi.ReadFileAsync(handle, new byte[4096]));

        Assert.Contains("says 2147483632 bytes, more than the 4352 this call can need", e.Message, StringComparison.Ordinal);
        Assert.True(rapi.IsBroken);
        await Assert.ThrowsAsync<ActiveSyncProtocolException>(async () => await rapi.GetFileAttributesAsync(@"\"));
    }

    [Theory]
    [InlineData("CeFindAllFiles", "entries but holds")]
    [InlineData("CeReadFile", "ends inside the file data")]
    public async Task A_reply_that_lies_about_its_count_ends_the_session_with_a_protocol_error(string call, string expected)
    {
        await using var rig = LoopbackRig.Start();
        rig.WriteFile(@"\My Documents\a.bin", TestData.Bytes(1, 100));
        rig.Device.Faults.LyingCountIn = call;
        var (_, rapi) = await rig.ConnectRapiAsync();

        var e = await Assert.ThrowsAsync<ActiveSyncProtocolException>(async () =>
        {
            await using var reader = await DeviceFileReader.OpenAsync(rapi, @"\My Documents\a.bin", 100, rig.Options);
            await rapi.FindAllFilesAsync(@"\My Documents\*.*");
            await reader.CopyToAsync(Stream.Null);
        });

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.True(rapi.IsBroken);
    }

    [Theory]
    [InlineData("name length")]
    [InlineData("message length")]
    public async Task A_hostile_info_message_fails_the_handshake_and_the_device_is_never_handed_out(string lie)
    {
        await using var rig = LoopbackRig.Start();
        if (lie == "name length")
        {
            rig.Device.Faults.InfoNameCharsOverride = 0x4000_0000;
        }
        else
        {
            rig.Device.Faults.InfoLengthOverride = 0x7FFF_FFFF; // refused before anything is sized by it
        }

        await rig.Listener.SendTriggerAsync(IPAddress.Loopback, rig.Device.TriggerEndPoint!.Port);

        await LoopbackRig.WaitForAsync(() => rig.Counters.ControlConnections == 1 && !rig.Device.IsConnected, "the host to close the connection");
        using var none = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await rig.Listener.AcceptDeviceAsync(none.Token));
    }

    [Fact]
    public async Task A_connection_with_an_id_nobody_asked_for_is_closed()
    {
        await using var rig = LoopbackRig.Start();
        using var stranger = new TcpClient();
        await stranger.ConnectAsync(rig.Listener.LocalEndPoint);
        await stranger.GetStream().WriteAsync(BitConverter.GetBytes(4242u));

        var read = await stranger.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(LoopbackRig.Patience);
        Assert.Equal(0, read);
    }

    [Fact]
    public async Task A_port_in_use_is_refused_with_a_clear_message()
    {
        await using var rig = LoopbackRig.Start();
        var e = Assert.Throws<CradleException>(() => ActiveSyncListener.Start(rig.Listener.LocalEndPoint));
        Assert.Contains("in use", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_privileged_port_refused_names_CAP_NET_BIND_SERVICE()
    {
        var e = ActiveSyncListener.BindFailure(new IPEndPoint(IPAddress.Parse("169.254.2.2"), 990), new SocketException((int)SocketError.AccessDenied));
        Assert.Contains("CAP_NET_BIND_SERVICE", e.Message, StringComparison.Ordinal);
        Assert.Contains("setcap cap_net_bind_service=+ep", e.Message, StringComparison.Ordinal);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task The_device_name_and_model_are_data_and_reach_the_log_escaped()
    {
        await using var rig = LoopbackRig.Start(o => o with { Name = "evil\u001b[2J", Model = "m\u0007" });
        var channel = await rig.ConnectAsync();

        Assert.Equal("evil\u001b[2J", channel.Info.Name);
        Assert.DoesNotContain('\u001b', channel.Label);
        Assert.Contains("\\u001b[2J", channel.Label, StringComparison.Ordinal);
    }
}
