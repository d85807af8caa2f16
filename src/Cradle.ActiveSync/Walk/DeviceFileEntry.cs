using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Walk;

/// <summary>
/// One file or folder the walk found: where it is on the device, where it goes in a snapshot, and
/// the size and last-write time an incremental backup compares.
/// </summary>
public sealed record DeviceFileEntry(string DevicePath, string SnapshotPath, long Size, long LastWriteFileTime, long CreationFileTime, CeFileAttributes Attributes)
{
    /// <summary>100 ns ticks between 1601-01-01 (FILETIME's epoch) and 1970-01-01.</summary>
    public const long UnixEpochFileTime = 116_444_736_000_000_000;

    public bool IsDirectory => (Attributes & CeFileAttributes.Directory) != 0;

    /// <summary>The last-write time in nanoseconds since 1970 (the store's unit); exact, FILETIME counts 100 ns.</summary>
    public long LastWriteUnixNanoseconds => FileTimeToUnixNanoseconds(LastWriteFileTime);

    public DateTimeOffset LastWriteUtc => DateTimeOffset.FromUnixTimeMilliseconds(LastWriteUnixNanoseconds / 1_000_000);

    /// <summary>
    /// A FILETIME in nanoseconds since 1970. A device clock can hold nonsense (years past 2262 do not
    /// fit): those are clamped rather than refused, so one odd timestamp does not stop a backup.
    /// </summary>
    public static long FileTimeToUnixNanoseconds(long fileTime)
    {
        var ticks = fileTime - UnixEpochFileTime;
        return ticks switch
        {
            > long.MaxValue / 100 => long.MaxValue / 100 * 100,
            < long.MinValue / 100 => long.MinValue / 100 * 100,
            _ => ticks * 100,
        };
    }

    /// <summary>The FILETIME of a time in nanoseconds since 1970 (restore sets it back; sub-100 ns is dropped).</summary>
    public static long UnixNanosecondsToFileTime(long unixNanoseconds) => (unixNanoseconds / 100) + UnixEpochFileTime;
}

/// <summary>Incremental backups: which listed files must be read again.</summary>
public static class DeviceChanges
{
    /// <summary>
    /// True when a file's size and last-write time match what the previous snapshot holds for its
    /// path: its contents are not read again. (ActiveSync devices give no inode or change counter;
    /// size + time is what the device can tell us, as it was for ActiveSync's own backup.)
    /// </summary>
    public static bool IsUnchanged(DeviceFileEntry entry, long previousSize, long previousLastWriteUnixNanoseconds) =>
        !entry.IsDirectory && entry.Size == previousSize && entry.LastWriteUnixNanoseconds == previousLastWriteUnixNanoseconds;
}
