using System.Runtime.CompilerServices;

namespace Cradle.LineRelay.Tests;

public sealed class TerminalSpeedTests
{
    private const uint Echo = 0x8;
    private const uint Canonical = 0x2;

    [Theory]
    [InlineData(9600, 0xD)]
    [InlineData(19200, 0xE)]
    [InlineData(38400, 0xF)]
    [InlineData(57600, 0x1001)]
    [InlineData(115200, 0x1002)]
    [InlineData(4000000, 0x100F)]
    public void Rates_map_to_the_linux_speed_constants(int baud, uint constant)
    {
        Assert.Equal(constant, TerminalSpeed.ToConstant(baud));
    }

    [Fact]
    public void A_rate_without_a_constant_is_refused()
    {
        Assert.False(TerminalSpeed.IsStandard(250000));
        Assert.Throws<ArgumentOutOfRangeException>(() => TerminalSpeed.ToConstant(250000));
    }

    [Fact]
    public void Termios_has_glibc_layout()
    {
        Assert.Equal(60, Unsafe.SizeOf<Termios>());
    }

    [Fact]
    public void Ports_start_raw_at_the_line_speed()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 57600));
        using var device = PortEnd.Open(relay.DevicePort);

        Assert.Equal(57600, TerminalSpeed.GetOutput(device.Handle));
        Assert.Equal(0u, TerminalSpeed.Read(device.Handle).LocalModes & (Echo | Canonical));
    }

    [Fact]
    public void The_relay_sees_on_the_master_the_speed_a_program_set_on_its_port()
    {
        using var relay = SerialLineRelay.Start(new LineRelayOptions());
        using var device = PortEnd.Open(relay.DevicePort);

        TerminalSpeed.Set(device.Handle, 19200);

        Assert.Equal(19200, TerminalSpeed.GetOutput(relay.DeviceTerminal.Master));
    }
}
