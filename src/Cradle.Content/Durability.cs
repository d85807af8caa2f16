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

    private static partial class Native
    {
        public const int O_RDONLY = 0;

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int close(int fd);
    }
}
