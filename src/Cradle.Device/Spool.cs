namespace Cradle.Device;

/// <summary>
/// A temporary file for what a backup would otherwise hold in memory: unlinked at once, so
/// nothing is left behind even when the process is killed, and its owner's only (0600, in a
/// folder made 0700): it names the device's files.
/// </summary>
internal static class Spool
{
    public static FileStream Create(string folder)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.Delete, BufferSize = 64 * 1024 };
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            options.Options = FileOptions.DeleteOnClose;
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var path = Path.Combine(folder, $"spool-{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            File.Delete(path);
        }

        return stream;
    }
}
