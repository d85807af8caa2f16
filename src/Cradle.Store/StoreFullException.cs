using Cradle.Protocol;
using Microsoft.Data.Sqlite;

namespace Cradle.Store;

/// <summary>
/// The host's disk is full. Transient: once space is freed the same backup succeeds. Nothing of
/// the backup that hit it was committed, and its unsealed pack was deleted.
/// </summary>
internal sealed class StoreFullException(string folder, Exception inner)
    : CradleException($"the host's disk is full ({FreeSpace(folder)} free under {folder}); free space on the host, then back up again. Nothing of this backup was committed", isTransient: true, inner)
{
    private const int Enospc = 28;
    private const int WindowsDiskFull = 0x70;
    private const int WindowsHandleDiskFull = 0x27;
    private const int SqliteFull = 13;

    /// <summary>True when an exception means "no space left on the device".</summary>
    public static bool IsDiskFull(Exception e) => e switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteFull,
        IOException io => (io.HResult & 0xFFFF) is Enospc or WindowsDiskFull or WindowsHandleDiskFull
            || io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private static string FreeSpace(string folder)
    {
        try
        {
            var free = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
            return free < 1024 * 1024 ? $"{free} bytes" : $"{free / (1024 * 1024)} MiB";
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return "unknown space";
        }
    }
}
