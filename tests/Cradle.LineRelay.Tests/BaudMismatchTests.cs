namespace Cradle.LineRelay.Tests;

/// <summary>
/// A program whose port is set to another speed than the line's reads garbage, as behind a real
/// UART. Each side's speed is set the way SerialPort sets it: termios on the slave.
/// </summary>
public sealed class BaudMismatchTests
{
    // The relay re-reads both sides' termios every 100 ms.
    private static readonly TimeSpan SpeedNoticed = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task Matching_speeds_carry_bytes_intact()
    {
        using var relay = StartAt115200();
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);
        TerminalSpeed.Set(device.Handle, 115200);
        TerminalSpeed.Set(host.Handle, 115200);

        var data = TestData.Bytes(20, 500);
        Assert.Equal(data, await SendAsync(device, host, data));
        Assert.Equal(0, relay.Stats.DeviceToHost.BytesGarbled);
    }

    [Fact]
    public async Task A_host_listening_at_the_wrong_baud_reads_only_garbage_until_it_matches()
    {
        using var relay = StartAt115200();
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);

        TerminalSpeed.Set(host.Handle, 9600);
        await Task.Delay(SpeedNoticed);
        var data = TestData.Bytes(21, 500);
        AssertEveryByteGarbled(data, await SendAsync(device, host, data));
        await Eventually.HoldsAsync(() => relay.Stats.DeviceToHost.BytesGarbled == data.Length, () => relay.Stats.DeviceToHost.ToString());

        TerminalSpeed.Set(host.Handle, 115200);
        await Task.Delay(SpeedNoticed);
        Assert.Equal(data, await SendAsync(device, host, data));
        Assert.Equal(data.Length, relay.Stats.DeviceToHost.BytesGarbled);
    }

    [Fact]
    public async Task A_device_sending_at_the_wrong_baud_is_heard_as_garbage()
    {
        using var relay = StartAt115200();
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);

        TerminalSpeed.Set(device.Handle, 57600);
        await Task.Delay(SpeedNoticed);
        var data = TestData.Bytes(22, 500);

        AssertEveryByteGarbled(data, await SendAsync(device, host, data));
        // The device hears the host garbled too: it listens at 57600.
        AssertEveryByteGarbled(data, await SendAsync(host, device, data));
    }

    [Fact]
    public async Task Without_the_emulation_speeds_do_not_matter()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 115200));
        using var device = PortEnd.Open(relay.DevicePort);
        using var host = PortEnd.Open(relay.HostPort);

        TerminalSpeed.Set(host.Handle, 9600);
        await Task.Delay(SpeedNoticed);
        var data = TestData.Bytes(23, 500);

        Assert.Equal(data, await SendAsync(device, host, data));
    }

    [Fact]
    public void Garbage_never_gives_a_byte_back_unchanged()
    {
        for (long position = 0; position < 4096; position++)
        {
            for (var value = 0; value < 256; value++)
            {
                Assert.NotEqual((byte)value, LineDirection.Garble((byte)value, position));
            }
        }
    }

    private static SerialLineRelay StartAt115200() =>
        SerialLineRelay.Start(new LineRelayOptions(LineBaud: 115200, EmulateBaudMismatch: true));

    private static async Task<byte[]> SendAsync(PortEnd from, PortEnd to, byte[] data)
    {
        var reads = to.ReadAsync(data.Length);
        await from.WriteAsync(data);
        return await reads;
    }

    private static void AssertEveryByteGarbled(byte[] sent, byte[] received)
    {
        Assert.Equal(sent.Length, received.Length);
        for (var i = 0; i < sent.Length; i++)
        {
            Assert.True(sent[i] != received[i], $"byte {i} arrived intact across a baud mismatch");
        }
    }
}
