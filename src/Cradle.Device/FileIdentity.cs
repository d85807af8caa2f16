using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cradle.Device;

/// <summary>
/// What .NET does not tell about a file: its inode number (for the files cache: a file replaced
/// by another of the same size and time has a new inode and is read again) and whether it is a
/// regular file (a FIFO or socket would block the reader). Read with lstat(2) on Linux, where
/// st_ino sits at offset 8 of struct stat, and st_mode at 24 (x86-64) or 16 (arm64).
/// Elsewhere the inode is 0 and every non-directory counts as regular.
/// </summary>
internal static partial class FileIdentity
{
    private static readonly int ModeOffset = !OperatingSystem.IsLinux() ? -1 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 24,
        Architecture.Arm64 => 16,
        _ => -1,
    };

    private const uint FileTypeMask = 0xF000;
    private const uint RegularFile = 0x8000;

    public static unsafe (ulong Inode, bool IsRegular) Stat(string path)
    {
        if (ModeOffset < 0)
        {
            return (0, true);
        }

        var buffer = stackalloc byte[256];
        if (lstat(path, buffer) != 0)
        {
            throw new IOException($"cannot stat {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        var inode = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(buffer + 8, 8));
        var mode = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(buffer + ModeOffset, 4));
        return (inode, (mode & FileTypeMask) == RegularFile);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int lstat(string path, byte* buffer);
}
