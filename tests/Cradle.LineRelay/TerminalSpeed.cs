using System.Runtime.InteropServices;

namespace Cradle.LineRelay;

/// <summary>
/// The speed of a terminal as termios holds it: a Linux <c>speed_t</c> constant (B9600, B115200, …),
/// not a number of bits per second. Tests use it to set the speed on a slave they opened, as
/// System.IO.Ports.SerialPort does when it opens a port.
/// </summary>
public static class TerminalSpeed
{
    // Linux asm-generic/termbits.h. B134 is really 134.5 baud; 0 (B0) means "hang up", not a speed.
    private static readonly (int Baud, uint Constant)[] Speeds =
    [
        (50, 0x1), (75, 0x2), (110, 0x3), (134, 0x4), (150, 0x5), (200, 0x6), (300, 0x7), (600, 0x8),
        (1200, 0x9), (1800, 0xA), (2400, 0xB), (4800, 0xC), (9600, 0xD), (19200, 0xE), (38400, 0xF),
        (57600, 0x1001), (115200, 0x1002), (230400, 0x1003), (460800, 0x1004), (500000, 0x1005),
        (576000, 0x1006), (921600, 0x1007), (1000000, 0x1008), (1152000, 0x1009), (1500000, 0x100A),
        (2000000, 0x100B), (2500000, 0x100C), (3000000, 0x100D), (3500000, 0x100E), (4000000, 0x100F),
    ];

    /// <summary>Whether termios has a constant for this rate (anything else needs BOTHER and termios2).</summary>
    public static bool IsStandard(int baud) => TryGetConstant(baud, out _);

    /// <summary>Sets both the input and the output speed of an open terminal (or pty master: it sets the slave's).</summary>
    public static void Set(SafeHandle terminal, int baud)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        var constant = ToConstant(baud);
        var termios = Read(terminal);
        if (Libc.CfSetSpeed(ref termios, constant) != 0)
        {
            throw Libc.LastError("cfsetspeed");
        }

        if (Libc.TcSetAttr(terminal, Libc.TcsaNow, termios) != 0)
        {
            throw Libc.LastError("tcsetattr");
        }
    }

    /// <summary>The output speed of an open terminal in baud.</summary>
    /// <exception cref="IOException">The terminal's speed has no standard constant (BOTHER) or termios could not be read.</exception>
    public static int GetOutput(SafeHandle terminal)
    {
        ArgumentNullException.ThrowIfNull(terminal);
        var constant = Libc.CfGetOSpeed(Read(terminal));
        foreach (var (baud, known) in Speeds)
        {
            if (known == constant)
            {
                return baud;
            }
        }

        throw new IOException($"the terminal's output speed is speed_t 0x{constant:X}, which is no standard rate");
    }

    internal static uint ToConstant(int baud) =>
        TryGetConstant(baud, out var constant)
            ? constant
            : throw new ArgumentOutOfRangeException(nameof(baud), baud, "termios has no speed constant for this rate");

    internal static bool TryGetConstant(int baud, out uint constant)
    {
        foreach (var (known, value) in Speeds)
        {
            if (known == baud)
            {
                constant = value;
                return true;
            }
        }

        constant = 0;
        return false;
    }

    internal static Termios Read(SafeHandle terminal)
    {
        if (Libc.TcGetAttr(terminal, out var termios) != 0)
        {
            throw Libc.LastError("tcgetattr");
        }

        return termios;
    }
}
