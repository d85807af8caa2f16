using System.Runtime.InteropServices;

namespace Cradle.Content;

/// <summary>Making writes survive a power cut: fsync of files and of the folders that name them.</summary>
public static partial class Durability
{
    /// <summary>
    /// Flushes a folder's entries to disk so a newly created or renamed file in it survives
    /// a crash. A no-op on Windows, where NTFS journals metadata and folders cannot be opened.
    /// </summary>
    public static void FlushFolder(string folder)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return;
        }

        var fd = Native.open(folder, Native.O_RDONLY);
        if (fd < 0)
        {
            throw new IOException($"cannot open folder {folder} to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Native.fsync(fd) != 0)
            {
                throw new IOException($"fsync of folder {folder} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>Writes a file atomically: a temporary file beside it, fsync, rename over, fsync the folder.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var copy = content.ToArray();
        WriteAtomically(path, stream => stream.Write(copy));
    }

    /// <summary>
    /// Writes a file atomically from <paramref name="write"/>, which streams the content into a
    /// temporary file beside it (nothing is gathered in memory); then fsync, rename over, fsync
    /// the folder. When <paramref name="write"/> throws, the old file is untouched. The file is
    /// its owner's only (0600) from the moment it exists, and a folder made for it 0700: what is
    /// written this way is private state (partnership secrets, the recovery key, the host's key).
    /// </summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 64 * 1024 };
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, options))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        FlushFolder(folder);
    }

    /// <summary>
    /// Makes everything written so far under <paramref name="folders"/> durable — file contents,
    /// new names and renames — with one <c>syncfs(2)</c> per file system they are on (one journal
    /// commit for a whole batch of files, where an fsync per file commits the journal once per
    /// file: 43 s for the 50,000 files of bench's <c>small</c> set). Elsewhere than on Linux each
    /// of <paramref name="files"/> and each folder is flushed on its own.
    /// </summary>
    /// <exception cref="IOException">The file system reports a failed write: what was asked is not known to be durable.</exception>
    public static void SyncFileSystems(IReadOnlyCollection<string> folders, IReadOnlyCollection<string> files)
    {
        if (!OperatingSystem.IsLinux())
        {
            foreach (var file in files)
            {
                using var handle = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                handle.Flush(flushToDisk: true);
            }

            foreach (var folder in folders)
            {
                FlushFolder(folder);
            }

            return;
        }

        var synced = new HashSet<ulong>();
        foreach (var folder in folders)
        {
            // One syncfs per file system: a folder below a mount point is on another one.
            if (!synced.Add(FileSystemOf(folder)))
            {
                continue;
            }

            var fd = Native.open(folder, Native.O_RDONLY);
            if (fd < 0)
            {
                throw new IOException($"cannot open folder {folder} to make its file system durable (errno {Marshal.GetLastPInvokeError()})");
            }

            try
            {
                if (Native.syncfs(fd) != 0)
                {
                    throw new IOException($"syncfs of the file system of {folder} failed (errno {Marshal.GetLastPInvokeError()})");
                }
            }
            finally
            {
                _ = Native.close(fd);
            }
        }
    }

    /// <summary>The device number of the file system holding <paramref name="path"/> (statx: its layout is the same on every architecture).</summary>
    private static unsafe ulong FileSystemOf(string path)
    {
        var buffer = stackalloc byte[Native.StatxSize];
        int result;
        try
        {
            result = Native.statx(Native.AT_FDCWD, path, 0, Native.STATX_TYPE, buffer);
        }
        catch (EntryPointNotFoundException)
        {
            // A C library without statx (musl before 1.2.5): each folder is synced on its own.
            return (ulong)StringComparer.Ordinal.GetHashCode(path);
        }

        if (result != 0)
        {
            throw new IOException($"cannot stat folder {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        return ((ulong)*(uint*)(buffer + Native.StatxDevMajor) << 32) | *(uint*)(buffer + Native.StatxDevMinor);
    }

    private static partial class Native
    {
        public const int O_RDONLY = 0;
        public const int AT_FDCWD = -100;
        public const uint STATX_TYPE = 1;
        public const int StatxSize = 256;
        public const int StatxDevMajor = 136;
        public const int StatxDevMinor = 140;

        [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
        public static partial int syncfs(int fd);

        [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int close(int fd);
    }
}
