using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cradle.Content;

/// <summary>
/// What .NET does not tell about a file, read with lstat(2) on Linux: which file system and inode
/// it is (the device's files cache: a file replaced by another of the same size and time has a
/// new inode; hard links: two names of one inode are one file), how many names it has, and
/// whether it is a regular file (a FIFO or socket would block a reader). And link(2), which .NET
/// does not offer. struct stat: st_dev at 0 and st_ino at 8 on both; st_nlink (8 bytes) at 16 and
/// st_mode at 24 on x86-64; st_mode at 16 and st_nlink (4 bytes) at 20 on arm64. Elsewhere a file
/// has inode 0 and one name, and every non-directory counts as regular.
/// </summary>
public static partial class FileIdentity
{
    private const uint FileTypeMask = 0xF000;
    private const uint RegularFile = 0x8000;

    private static readonly (int Mode, int Links, int LinksSize) Offsets = !OperatingSystem.IsLinux() ? (-1, -1, 0) : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => (24, 16, 8),
        Architecture.Arm64 => (16, 20, 4),
        _ => (-1, -1, 0),
    };

    /// <summary>True where hard links are told apart and made (Linux on x86-64 and arm64).</summary>
    public static bool Supported => Offsets.Mode >= 0;

    /// <summary>The identity of the file at <paramref name="path"/> itself (a symbolic link is not followed).</summary>
    /// <exception cref="IOException">It cannot be stat'ed.</exception>
    public static unsafe FileStat Stat(string path)
    {
        if (!Supported)
        {
            return new FileStat(0, 0, 1, true);
        }

        var buffer = stackalloc byte[256];
        if (lstat(path, buffer) != 0)
        {
            throw new IOException($"cannot stat {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        var stat = new ReadOnlySpan<byte>(buffer, 256);
        var device = BinaryPrimitives.ReadUInt64LittleEndian(stat[0..]);
        var inode = BinaryPrimitives.ReadUInt64LittleEndian(stat[8..]);
        var mode = BinaryPrimitives.ReadUInt32LittleEndian(stat[Offsets.Mode..]);
        var links = Offsets.LinksSize == 8
            ? BinaryPrimitives.ReadUInt64LittleEndian(stat[Offsets.Links..])
            : BinaryPrimitives.ReadUInt32LittleEndian(stat[Offsets.Links..]);
        return new FileStat(device, inode, links, (mode & FileTypeMask) == RegularFile);
    }

    /// <summary>True when both names are one file (the same inode on the same file system); false when either is missing.</summary>
    public static bool SameFile(string a, string b)
    {
        if (!Supported || !File.Exists(a) || !File.Exists(b))
        {
            return false;
        }

        var x = Stat(a);
        var y = Stat(b);
        return x.Device == y.Device && x.Inode == y.Inode;
    }

    /// <summary>Gives the file at <paramref name="existing"/> a second name, <paramref name="newPath"/> (which must not exist).</summary>
    /// <exception cref="IOException">The link cannot be made (another file system, too many links, a file system without hard links, not Linux).</exception>
    public static void Link(string existing, string newPath)
    {
        if (!Supported)
        {
            throw new IOException("hard links are made on Linux only");
        }

        if (link(existing, newPath) != 0)
        {
            throw new IOException($"cannot link {newPath} to {existing} (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int lstat(string path, byte* buffer);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int link(string existing, string newPath);
}

/// <summary>A file's identity: its file system, inode, number of names (hard links) and whether it is a regular file.</summary>
public readonly record struct FileStat(ulong Device, ulong Inode, ulong Links, bool IsRegular);
