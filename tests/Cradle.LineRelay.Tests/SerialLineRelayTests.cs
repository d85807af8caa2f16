using System.Diagnostics;
using System.Numerics;

namespace Cradle.LineRelay.Tests;

/// <summary>The relay over real pseudo-terminals: what a program at each end of the line reads.</summary>
public sealed class SerialLineRelayTests
{
    [Fact]
    public async Task Bytes_pass_through_intact_both_ways_at_once()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        // Every byte value, control characters included: a port left cooked would echo, translate
        // CR/LF or act on ^C and XON/XOFF.
        var toHost = TestData.Bytes(1, 64 * 1024);
        var toDevice = TestData.Bytes(2, 64 * 1024);

        var hostReads = host.ReadAsync(toHost.Length);
        var deviceReads = device.ReadAsync(toDevice.Length);
        await Task.WhenAll(device.WriteAsync(toHost), host.WriteAsync(toDevice));

        Assert.Equal(toHost, await hostReads);
        Assert.Equal(toDevice, await deviceReads);
        await Eventually.HoldsAsync(
            () => relay.Stats is var s && s.DeviceToHost.BytesForwarded == toHost.Length && s.HostToDevice.BytesForwarded == toDevice.Length,
            () => relay.Stats.ToString());
    }

    [Fact]
    public async Task A_9600_baud_line_takes_at_least_the_wire_time_of_2000_bytes()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 9600));
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        var data = TestData.Bytes(3, 2000);

        var clock = Stopwatch.StartNew();
        var reads = host.ReadAsync(data.Length);
        await device.WriteAsync(data);

        Assert.Equal(data, await reads);
        // 2,000 bytes of 10 bits at 9,600 baud are 2.08 s on the wire; the first byte may go at once.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"2,000 bytes crossed a 9600-baud line in {clock.Elapsed}");
    }

    [Fact]
    public async Task A_bit_error_rate_of_1e_3_flips_about_one_bit_in_a_thousand()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(BitErrorRate: 1e-3, Seed: 7));
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        var data = TestData.Bytes(4, 200_000);

        var reads = host.ReadAsync(data.Length);
        await device.WriteAsync(data);
        var received = await reads;

        long flipped = 0;
        for (var i = 0; i < data.Length; i++)
        {
            flipped += BitOperations.PopCount((uint)(data[i] ^ received[i]));
        }

        // 1.6 million bits: 1,600 flips expected, standard deviation 40.
        Assert.InRange(flipped, 1400, 1800);
        Assert.Equal(flipped, relay.Stats.DeviceToHost.BitsFlipped);
    }

    [Fact]
    public async Task Dropped_bytes_vanish_and_the_rest_arrive_in_order()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(DropRate: 0.05, Seed: 11));
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        // No zero in the data: a zero, sent once the drops are off, marks the end.
        var sent = TestData.Bytes(5, 20_000).Select(b => b == 0 ? (byte)1 : b).ToArray();

        var reads = ReadUntilZeroAsync(host);
        await device.WriteAsync(sent);
        await Eventually.HoldsAsync(
            () => relay.Stats.DeviceToHost is var s && s.BytesForwarded + s.BytesDropped == sent.Length,
            () => relay.Stats.DeviceToHost.ToString());
        relay.DropRate = 0;
        await device.WriteAsync([0]);
        var received = await reads;

        // 1,000 drops expected, standard deviation 31.
        Assert.InRange(sent.Length - received.Length, 850, 1150);
        Assert.True(IsSubsequence(received, sent), "the bytes that arrived are not the sent ones, in order, less some");
    }

    [Fact]
    public async Task A_cut_line_throws_bytes_away_and_carries_new_ones_once_restored()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);

        relay.Cut = true;
        await device.WriteAsync(TestData.Bytes(6, 1000));
        await Eventually.HoldsAsync(() => relay.Stats.DeviceToHost.BytesDiscarded == 1000, () => relay.Stats.DeviceToHost.ToString());
        relay.Cut = false;
        var after = "after the cut"u8.ToArray();
        await device.WriteAsync(after);

        Assert.Equal(after, await host.ReadAsync(after.Length));
        await Eventually.HoldsAsync(() => relay.Stats.DeviceToHost.BytesForwarded == after.Length, () => relay.Stats.DeviceToHost.ToString());
    }

    [Fact]
    public async Task Cutting_a_paced_line_loses_what_was_still_on_it()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 9600));
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        var data = TestData.Bytes(7, 2000);

        await device.WriteAsync(data);
        await Eventually.HoldsAsync(() => relay.Stats.DeviceToHost.BytesForwarded >= 100, () => relay.Stats.DeviceToHost.ToString());
        relay.Cut = true;
        await Eventually.HoldsAsync(
            () => relay.Stats.DeviceToHost is var s && s.BytesForwarded + s.BytesDiscarded == data.Length,
            () => relay.Stats.DeviceToHost.ToString());

        var forwarded = relay.Stats.DeviceToHost.BytesForwarded;
        Assert.InRange(forwarded, 100, data.Length - 1);
        Assert.Equal(data[..(int)forwarded], await host.ReadAsync((int)forwarded));
    }

    [Fact]
    public async Task A_stall_holds_the_bytes_both_ways_then_delivers_them()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        var toHost = TestData.Bytes(8, 100);
        var toDevice = TestData.Bytes(9, 100);

        var clock = Stopwatch.StartNew();
        relay.Stall(TimeSpan.FromSeconds(0.8));
        var hostReads = TimedAsync(host.ReadAsync(toHost.Length), clock);
        var deviceReads = TimedAsync(device.ReadAsync(toDevice.Length), clock);
        await Task.WhenAll(device.WriteAsync(toHost), host.WriteAsync(toDevice));

        var (atHost, hostAt) = await hostReads;
        var (atDevice, deviceAt) = await deviceReads;
        Assert.Equal(toHost, atHost);
        Assert.Equal(toDevice, atDevice);
        Assert.True(hostAt >= TimeSpan.FromSeconds(0.75), $"bytes crossed a stalled line to the host after {hostAt}");
        Assert.True(deviceAt >= TimeSpan.FromSeconds(0.75), $"bytes crossed a stalled line to the device after {deviceAt}");
    }

    [Fact]
    public async Task Bytes_sent_before_the_host_opens_its_port_wait_there()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        using var device = PortEnd.Open(relay.DevicePort);
        var early = "sent to nobody yet"u8.ToArray();

        await device.WriteAsync(early);
        await Eventually.HoldsAsync(() => relay.Stats.DeviceToHost.BytesForwarded == early.Length, () => relay.Stats.DeviceToHost.ToString());
        using var host = PortEnd.Open(relay.HostPort);

        Assert.Equal(early, await host.ReadAsync(early.Length));
    }

    [Fact]
    public void Settings_out_of_range_are_refused()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());

        Assert.Throws<ArgumentOutOfRangeException>(() => relay.DropRate = 1.5);
        Assert.Throws<ArgumentOutOfRangeException>(() => relay.BitErrorRate = -0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => relay.LineBaud = -1);
        // No speed constant to compare the programs' termios with.
        Assert.Throws<ArgumentOutOfRangeException>(() => relay.EmulateBaudMismatch = true);
        Assert.Throws<ArgumentOutOfRangeException>(() => relay.Stall(TimeSpan.FromSeconds(-1)));
    }

    private static async Task<(byte[] Data, TimeSpan At)> TimedAsync(Task<byte[]> read, Stopwatch clock)
    {
        var data = await read;
        return (data, clock.Elapsed);
    }

    private static async Task<byte[]> ReadUntilZeroAsync(PortEnd port)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var count = await port.ReadSomeAsync(buffer);
            Assert.True(count > 0, "the port hung up");
            var end = Array.IndexOf(buffer, (byte)0, 0, count);
            received.AddRange(buffer.AsSpan(0, end < 0 ? count : end));
            if (end >= 0)
            {
                return [.. received];
            }
        }
    }

    private static bool IsSubsequence(byte[] part, byte[] whole)
    {
        var at = 0;
        foreach (var value in part)
        {
            at = Array.IndexOf(whole, value, at);
            if (at < 0)
            {
                return false;
            }

            at++;
        }

        return true;
    }
}
