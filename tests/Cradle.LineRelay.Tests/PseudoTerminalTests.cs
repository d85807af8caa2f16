namespace Cradle.LineRelay.Tests;

public sealed class PseudoTerminalTests
{
    [Fact]
    public void Its_master_reads_as_empty_not_hung_up_while_no_program_has_the_port_open()
    {
        using var pair = PseudoTerminal.Open(baud: null);

        // Without the relay's own slave descriptor this read fails with EIO and poll reports a
        // hang-up, over and over, until a program opens the port.
        var read = Libc.Read(pair.Master, new byte[16]);

        Assert.Equal(-1, read);
        Assert.Equal(Libc.Eagain, Libc.LastErrno());
    }

    [Fact]
    public void Its_slave_is_a_pts_device()
    {
        using var pair = PseudoTerminal.Open(baud: null);

        Assert.Matches("^/dev/pts/[0-9]+$", pair.SlavePath);
        Assert.True(File.Exists(pair.SlavePath));
    }
}
