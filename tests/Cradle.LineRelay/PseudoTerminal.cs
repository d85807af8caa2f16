using Microsoft.Win32.SafeHandles;

namespace Cradle.LineRelay;

/// <summary>
/// One pty pair: the master the relay reads and writes, and the slave a program opens by path as
/// if it were a serial port.
/// </summary>
/// <remarks>
/// The relay holds a slave descriptor of its own for the pair's whole life. Without it, a read
/// on the master fails with EIO, and poll reports a hang-up at once, whenever no program has the
/// slave open (before the program starts, between its reconnects). Bytes that arrive while
/// nobody listens wait in the slave's input buffer, as on a real port, and the next program to
/// open it reads them unless it flushes on open (SerialPort.Open does not). The buffer holds
/// some 15 KB on Linux 6; past that the relay holds bytes back.
/// </remarks>
internal sealed class PseudoTerminal : IDisposable
{
    private PseudoTerminal(SafeFileHandle master, SafeFileHandle keptSlave, string slavePath)
    {
        Master = master;
        KeptSlave = keptSlave;
        SlavePath = slavePath;
    }

    /// <summary>The relay's end, non-blocking. termios calls on it act on the slave's settings.</summary>
    public SafeFileHandle Master { get; }

    public SafeFileHandle KeptSlave { get; }

    public string SlavePath { get; }

    /// <summary>Opens a pair with the slave raw (8 data bits, no echo, no line editing, no flow control).</summary>
    /// <param name="baud">The speed the slave starts at, standing in for the port's last setting; null leaves the kernel's B38400.</param>
    public static PseudoTerminal Open(int? baud)
    {
        if (Libc.OpenPty(out var masterFd, out var slaveFd, 0, 0, 0) != 0)
        {
            throw Libc.LastError("openpty");
        }

        var master = new SafeFileHandle(masterFd, ownsHandle: true);
        var slave = new SafeFileHandle(slaveFd, ownsHandle: true);
        try
        {
            Libc.SetCloseOnExec(master);
            Libc.SetCloseOnExec(slave);
            Libc.SetNonBlocking(master);

            var termios = TerminalSpeed.Read(slave);
            Libc.CfMakeRaw(ref termios);
            if (baud is { } rate && Libc.CfSetSpeed(ref termios, TerminalSpeed.ToConstant(rate)) != 0)
            {
                throw Libc.LastError("cfsetspeed");
            }

            if (Libc.TcSetAttr(slave, Libc.TcsaNow, termios) != 0)
            {
                throw Libc.LastError("tcsetattr");
            }

            return new PseudoTerminal(master, slave, Libc.SlavePath(master));
        }
        catch
        {
            master.Dispose();
            slave.Dispose();
            throw;
        }
    }

    /// <summary>Closing the master hangs up the slave: a program still reading it gets end of file.</summary>
    public void Dispose()
    {
        Master.Dispose();
        KeptSlave.Dispose();
    }
}
