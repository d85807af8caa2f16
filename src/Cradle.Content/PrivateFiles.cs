using System.Runtime.InteropServices;

namespace Cradle.Content;

/// <summary>
/// The host's data is its owner's alone (issue 19): its folder and every folder in it 0700, and
/// every file — packs, the catalog, its WAL and shared memory, the dashboard token, the log — 0600,
/// in the data folder and in a <c>--packs</c> folder elsewhere. Enforced whenever a store opens,
/// whatever was there before: a looser mode is repaired (the owner and root may change it), and
/// one that cannot be repaired stops the program with a message that says how. New files are
/// private from the start: the host's processes run with a umask of 077 and create packs, folders
/// and logs with owner-only modes.
/// </summary>
public static partial class PrivateFiles
{
    /// <summary>rwx------: a folder only its owner may enter.</summary>
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw-------: a file only its owner may read.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Makes what this process creates from now on private to its user (umask 077); nothing on Windows.</summary>
    public static void ForThisProcess()
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = umask(Convert.ToUInt32("077", 8));
        }
    }

    /// <summary>
    /// Makes <paramref name="folder"/> and everything under it private; returns how many entries it
    /// had to repair. Symbolic links are neither followed nor changed (a link's own mode means
    /// nothing; what it points to is not the store's). Throws <see cref="StorePermissionsException"/>
    /// when an entry is open to others and cannot be made private.
    /// </summary>
    public static int Enforce(string folder)
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(folder))
        {
            return 0;
        }

        var repaired = Repair(folder, FolderMode) ? 1 : 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", options))
        {
            if (entry.LinkTarget is not null)
            {
                continue;
            }

            repaired += Repair(entry.FullName, entry is DirectoryInfo ? FolderMode : FileMode) ? 1 : 0;
        }

        return repaired;
    }

    /// <summary>Creates a folder (and its parents) with <see cref="FolderMode"/>, or makes an existing one private.</summary>
    public static void CreateFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        Directory.CreateDirectory(folder, FolderMode);
        Repair(folder, FolderMode);
    }

    /// <summary>
    /// Creates a folder only its owner can enter, when it does not exist yet (an existing one is left
    /// as it is): the host's folder holds partnership secrets and the certificate's private key, the
    /// device's its partnership secrets.
    /// </summary>
    public static void CreateIfMissing(string folder)
    {
        if (Directory.Exists(folder))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, FolderMode);
        }
    }

    /// <summary>Takes group and other permissions off <paramref name="path"/>; true when it had any.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static bool Repair(string path, UnixFileMode wanted)
    {
        var mode = File.GetUnixFileMode(path);
        if ((mode & Others) == 0)
        {
            return false;
        }

        try
        {
            // Keeps the owner's own bits (a read-only pack stays read-only), takes the rest away.
            File.SetUnixFileMode(path, mode & ~Others);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StorePermissionsException($"{path} is mode {Octal(mode)}, readable by other users, and this user cannot make it private ({Octal(wanted)}): run the host as the folder's owner, or as its owner run 'chmod -R go= {path}'", e);
        }

        return true;
    }

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint umask(uint mask);
}

/// <summary>The host's folder (or its packs) is open to other users and cannot be made private.</summary>
public sealed class StorePermissionsException(string message, Exception? inner = null)
    : Protocol.CradleException(message, isTransient: false, inner);
