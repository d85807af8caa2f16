using System.Runtime.InteropServices;

namespace Cradle.Host;

/// <summary>
/// The host's open file descriptors against its limit. A host that lets a flood of connections
/// take its last descriptors cannot open a pack file, the catalog's journal or, on the JIT
/// runtime, even the files the runtime itself needs (it aborted with "Out of memory" when a
/// stalled session's handshake timed out with none left). So the accept loop keeps
/// <see cref="Reserve"/> descriptors free: a connection that would eat into them is closed at
/// once. Linux only (it reads /proc/self/fd); elsewhere there is always room.
/// </summary>
internal static partial class Descriptors
{
    /// <summary>Descriptors kept for sessions already running (pack files, the catalog) and the runtime.</summary>
    public const int Reserve = 32;

    private const int RlimitNoFile = 7;

    /// <summary>
    /// True when, with the connection just accepted, at least <see cref="Reserve"/> descriptors
    /// remain below the soft limit. When even the count cannot be taken (no descriptor left to
    /// list /proc/self/fd with), <paramref name="open"/> is the limit: no room.
    /// </summary>
    public static bool HaveRoom(out long open, out long limit)
    {
        open = 0;
        limit = long.MaxValue;
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        if (getrlimit(RlimitNoFile, out var rlimit) != 0 || rlimit.Current > long.MaxValue)
        {
            return true; // unlimited, or unknowable: nothing to keep
        }

        limit = (long)rlimit.Current;
        try
        {
            // Listing the folder takes a descriptor of its own; one entry is that one.
            open = Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount() - 1;
        }
        catch (IOException)
        {
            open = limit;
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }

        return limit - open >= Reserve;
    }

    /// <summary>The soft limit on open descriptors; null when there is none (or it cannot be read, or not on Linux).</summary>
    public static long? OpenFileLimit()
    {
        if (!OperatingSystem.IsLinux() || getrlimit(RlimitNoFile, out var rlimit) != 0 || rlimit.Current > long.MaxValue)
        {
            return null;
        }

        return (long)rlimit.Current;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out RLimit limit);
}
