using System.Runtime.InteropServices;
using System.Text;

namespace Cradle.LineRelay;

/// <summary>
/// The few libc calls the relay needs, with the Linux (glibc, x86-64 and arm64) values of their
/// constants. openpty lives in libc itself since glibc 2.34, so no libutil is needed.
/// </summary>
internal static partial class Libc
{
    private const string Library = "libc";

    internal const int Eintr = 4;
    internal const int Eio = 5;
    internal const int Eagain = 11;

    internal const short PollIn = 0x001;
    internal const short PollOut = 0x004;
    internal const short PollErr = 0x008;
    internal const short PollHup = 0x010;
    internal const short PollNval = 0x020;

    internal const int TcsaNow = 0;

    private const int FGetFd = 1;
    private const int FSetFd = 2;
    private const int FGetFl = 3;
    private const int FSetFl = 4;
    private const int FdCloexec = 1;
    private const int ONonblock = 0x800;

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport(Library, EntryPoint = "openpty", SetLastError = true)]
    internal static partial int OpenPty(out int master, out int slave, nint name, nint termios, nint windowSize);

    [LibraryImport(Library, EntryPoint = "ptsname_r")]
    private static partial int PtsNameR(SafeHandle master, ref byte buffer, nuint length);

    [LibraryImport(Library, EntryPoint = "tcgetattr", SetLastError = true)]
    internal static partial int TcGetAttr(SafeHandle fd, out Termios termios);

    [LibraryImport(Library, EntryPoint = "tcsetattr", SetLastError = true)]
    internal static partial int TcSetAttr(SafeHandle fd, int optionalActions, in Termios termios);

    [LibraryImport(Library, EntryPoint = "cfmakeraw")]
    internal static partial void CfMakeRaw(ref Termios termios);

    [LibraryImport(Library, EntryPoint = "cfgetospeed")]
    internal static partial uint CfGetOSpeed(in Termios termios);

    [LibraryImport(Library, EntryPoint = "cfgetispeed")]
    internal static partial uint CfGetISpeed(in Termios termios);

    [LibraryImport(Library, EntryPoint = "cfsetspeed", SetLastError = true)]
    internal static partial int CfSetSpeed(ref Termios termios, uint speed);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(ref PollFd fd, nuint count, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(SafeHandle fd, ref byte buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(SafeHandle fd, ref readonly byte buffer, nuint count);

    // fcntl is variadic; passing its one int argument as a fixed one is sound on the x86-64 and
    // arm64 Linux calling conventions, where both pass it in the same register.
    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeHandle fd, int command, int argument);

    /// <summary>read(2): the byte count, or -1 with the error in <see cref="LastErrno"/>.</summary>
    internal static nint Read(SafeHandle fd, Span<byte> buffer) =>
        Read(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);

    /// <summary>write(2): the byte count, or -1 with the error in <see cref="LastErrno"/>.</summary>
    internal static nint Write(SafeHandle fd, ReadOnlySpan<byte> buffer) =>
        Write(fd, in MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);

    /// <summary>The path of a master's slave, e.g. /dev/pts/7.</summary>
    internal static string SlavePath(SafeHandle master)
    {
        Span<byte> name = stackalloc byte[128];
        var errno = PtsNameR(master, ref MemoryMarshal.GetReference(name), (nuint)name.Length);
        if (errno != 0)
        {
            throw Error("ptsname_r", errno);
        }

        return Encoding.UTF8.GetString(name[..name.IndexOf((byte)0)]);
    }

    /// <summary>Keeps the descriptor out of child processes, so a closed relay really hangs up its lines.</summary>
    internal static void SetCloseOnExec(SafeHandle fd)
    {
        var flags = Fcntl(fd, FGetFd, 0);
        if (flags < 0 || Fcntl(fd, FSetFd, flags | FdCloexec) < 0)
        {
            throw LastError("fcntl(F_SETFD)");
        }
    }

    internal static void SetNonBlocking(SafeHandle fd)
    {
        var flags = Fcntl(fd, FGetFl, 0);
        if (flags < 0 || Fcntl(fd, FSetFl, flags | ONonblock) < 0)
        {
            throw LastError("fcntl(F_SETFL)");
        }
    }

    internal static int LastErrno() => Marshal.GetLastPInvokeError();

    internal static IOException LastError(string call) => Error(call, Marshal.GetLastPInvokeError());

    internal static IOException Error(string call, int errno) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}
