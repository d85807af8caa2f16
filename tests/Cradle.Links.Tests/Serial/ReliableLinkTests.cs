using System.Security.Cryptography;
using Cradle.Links.Serial;

namespace Cradle.Links.Tests.Serial;

public class ReliableLinkTests
{
    private static readonly ReliableLinkOptions Fast = new() { InitialRetransmitTimeout = TimeSpan.FromMilliseconds(200), DeadAfter = TimeSpan.FromSeconds(10) };

    private static async Task<(ReliableLink Device, ReliableLink Host, string Name)> ConnectAsync(NoisyLine line, ReliableLinkOptions? options = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var accept = SerialLink.AcceptAsync(line.Host, options ?? Fast, timeout.Token);
        var device = await SerialLink.OfferAsync(line.Device, "MX7-0042", options ?? Fast, timeout.Token);
        var (host, name) = await accept;
        return (device, host, name);
    }

    [Fact]
    public async Task Carries_bytes_both_ways_intact_through_bit_errors()
    {
        await using var line = new NoisyLine(bitErrorRate: 2e-5, seed: 7);
        var (device, host, name) = await ConnectAsync(line);
        Assert.Equal("MX7-0042", name);
        var up = RandomNumberGenerator.GetBytes(600_000);
        var down = RandomNumberGenerator.GetBytes(300_000);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var sendUp = device.WriteAsync(up, timeout.Token).AsTask();
        var sendDown = host.WriteAsync(down, timeout.Token).AsTask();
        var receivedUp = new byte[up.Length];
        var receivedDown = new byte[down.Length];
        await Task.WhenAll(
            host.ReadExactlyAsync(receivedUp, timeout.Token).AsTask(),
            device.ReadExactlyAsync(receivedDown, timeout.Token).AsTask(),
            sendUp,
            sendDown);

        Assert.True(up.AsSpan().SequenceEqual(receivedUp), "the bytes the host received differ from the bytes sent");
        Assert.True(down.AsSpan().SequenceEqual(receivedDown), "the bytes the device received differ from the bytes sent");
        Assert.True(line.BitsFlipped > 60, $"only {line.BitsFlipped} bits were flipped: the test proves nothing");
        Assert.True(device.Retransmissions + host.Retransmissions > 0);
        Assert.True(line.Host.NoiseBytes > 0);
        await device.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Close_reaches_the_peer_as_end_of_stream()
    {
        await using var line = new NoisyLine();
        var (device, host, _) = await ConnectAsync(line);
        await device.WriteAsync("last words"u8.ToArray());
        await device.DisposeAsync();
        using var reader = new StreamReader(host);
        Assert.Equal("last words", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task A_dead_line_fails_the_link_with_a_clear_message_instead_of_hanging()
    {
        await using var line = new NoisyLine();
        var options = Fast with { DeadAfter = TimeSpan.FromSeconds(1) };
        var (device, host, _) = await ConnectAsync(line, options);
        line.Cut = true;
        await device.WriteAsync(new byte[5000]);
        var buffer = new byte[10];
        var error = await Assert.ThrowsAsync<IOException>(async () => await device.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("no acknowledgement", error.Message, StringComparison.Ordinal);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Offers_lost_on_the_line_are_repeated_until_the_host_answers()
    {
        await using var line = new NoisyLine();
        line.Cut = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var offering = SerialLink.OfferAsync(line.Device, "MX7-0042", Fast, timeout.Token);
        var accept = SerialLink.AcceptAsync(line.Host, Fast, timeout.Token);
        await Task.Delay(1200);
        Assert.False(accept.IsCompleted);
        line.Cut = false;
        var device = await offering;
        var (host, _) = await accept;
        await device.WriteAsync("hello"u8.ToArray());
        var buffer = new byte[5];
        await host.ReadExactlyAsync(buffer, timeout.Token);
        Assert.Equal("hello"u8.ToArray(), buffer);
    }

    [Fact]
    public async Task A_new_offer_from_a_restarted_device_ends_the_old_session_on_the_host()
    {
        await using var line = new NoisyLine();
        var (oldDevice, host, _) = await ConnectAsync(line);
        oldDevice.Dispose(); // the device lost its state (suspend, crash) without a close
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var offering = SerialLink.OfferAsync(line.Device, "MX7-0042", Fast, timeout.Token);
        var error = await Assert.ThrowsAsync<IOException>(async () => await host.ReadExactlyAsync(new byte[1], timeout.Token));
        Assert.Contains("new session", error.Message, StringComparison.Ordinal);
        var (next, _) = await SerialLink.AcceptAsync(line.Host, Fast, timeout.Token);
        var device = await offering;
        Assert.NotEqual(oldDevice.Session, device.Session);
        await device.WriteAsync("again"u8.ToArray());
        var buffer = new byte[5];
        await next.ReadExactlyAsync(buffer, timeout.Token);
        Assert.Equal("again"u8.ToArray(), buffer);
    }

    [Fact]
    public async Task On_a_very_noisy_line_the_frames_shrink_and_every_byte_arrives()
    {
        await using var line = new NoisyLine(bitErrorRate: 1e-4, seed: 11);
        var (device, host, _) = await ConnectAsync(line, Fast with { DeadAfter = TimeSpan.FromSeconds(30) });
        var up = RandomNumberGenerator.GetBytes(300_000);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var send = device.WriteAsync(up, timeout.Token).AsTask();
        var received = new byte[up.Length];
        await host.ReadExactlyAsync(received, timeout.Token);
        await send;

        Assert.True(up.AsSpan().SequenceEqual(received), "the bytes the host received differ from the bytes sent");
        // At 1e-4 four of five 2 KiB frames are hit; the link settles near 140 bytes a frame.
        Assert.InRange(device.FramePayload, FrameSizer.MinPayload, 400);
        Assert.InRange(device.LossPerByte, 2e-4, 3e-3);
        await device.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task On_a_clean_line_the_frames_grow_to_the_largest()
    {
        await using var line = new NoisyLine();
        var (device, host, _) = await ConnectAsync(line);
        var up = RandomNumberGenerator.GetBytes(200_000);
        var received = new byte[up.Length];
        var send = device.WriteAsync(up).AsTask();
        await host.ReadExactlyAsync(received);
        await send;
        Assert.Equal(LinkFrame.MaxPayload, device.FramePayload);
        Assert.Equal(0, device.LossPerByte);
        await device.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Exactly_the_lost_frames_are_sent_again()
    {
        await using var line = new NoisyLine();
        // A timeout far beyond the test: the three holes must be found by the frames behind them.
        var patient = Fast with { InitialRetransmitTimeout = TimeSpan.FromSeconds(20), MinRetransmitTimeout = TimeSpan.FromSeconds(20), MaxRetransmitTimeout = TimeSpan.FromSeconds(40), DeadAfter = TimeSpan.FromSeconds(60) };
        var (device, host, _) = await ConnectAsync(line, patient);
        var sentBefore = device.FramesSent;
        foreach (var lost in new[] { 5, 17, 18 })
        {
            line.LoseDeviceFrames.Add(line.DeviceFrames + lost);
        }

        var up = RandomNumberGenerator.GetBytes(120_000);
        var received = new byte[up.Length];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var send = device.WriteAsync(up, timeout.Token).AsTask();
        await host.ReadExactlyAsync(received, timeout.Token);
        await send;

        Assert.True(up.AsSpan().SequenceEqual(received));
        Assert.Equal(3, device.Retransmissions);
        Assert.True(device.FramesSent - sentBefore > 30, "too few frames to prove selective resends");
        await device.DisposeAsync();
        await host.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_side_of_the_first_release_is_served_with_its_window_of_8(bool olderHost)
    {
        await using var line = new NoisyLine(bitErrorRate: 2e-5, seed: 4);
        var older = Fast with { Version = 1, Window = 8 };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var accept = SerialLink.AcceptAsync(line.Host, olderHost ? older : Fast, timeout.Token);
        var device = await SerialLink.OfferAsync(line.Device, "MX7-0042", olderHost ? Fast : older, timeout.Token);
        var (host, _) = await accept;
        var (newer, old) = olderHost ? (device, host) : (host, device);
        Assert.Equal(LinkCapabilities.First, newer.Peer);
        Assert.Equal(LinkCapabilities.First, old.Capabilities);
        Assert.Equal(LinkCapabilities.First, old.Peer); // the older side reads nothing either way

        var up = RandomNumberGenerator.GetBytes(300_000);
        var down = RandomNumberGenerator.GetBytes(100_000);
        var receivedUp = new byte[up.Length];
        var receivedDown = new byte[down.Length];
        await Task.WhenAll(
            device.WriteAsync(up, timeout.Token).AsTask(),
            host.WriteAsync(down, timeout.Token).AsTask(),
            host.ReadExactlyAsync(receivedUp, timeout.Token).AsTask(),
            device.ReadExactlyAsync(receivedDown, timeout.Token).AsTask());
        Assert.True(up.AsSpan().SequenceEqual(receivedUp));
        Assert.True(down.AsSpan().SequenceEqual(receivedDown));
        await device.DisposeAsync();
        await host.DisposeAsync();
    }
}
