using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// One file or folder found in the data folders. <c>Problem</c>: it could not be read (a folder
/// that could not be listed, or a data folder that is missing: then time and mode are 0); the
/// backup names it as such and the host carries forward its earlier version.
/// <c>LinkTo</c>: a file with more than one name (hard links) whose inode the scan met before
/// under another name, that name's snapshot path.
/// </summary>
public sealed record ScanEntry(string Path, string FullPath, EntryKind Kind, long Size, long MtimeUnixNs, ulong Inode, uint Mode, string? Problem = null, string? LinkTo = null);

/// <summary>What a scan met besides the entries it found.</summary>
public interface IScanReport
{
    /// <summary>Not backed up by design (a symbolic link, a device file): a warning, not a gap.</summary>
    void Skipped(string message);

    /// <summary>Something that could not be backed up and has no name a snapshot can hold: a gap.</summary>
    void Unnamed(string message);
}

/// <summary>
/// Walks the data folders in a stable order: the folders as configured, and in each the names
/// of a folder in ordinal order, a subfolder's entries right after its own (<see cref="ScanOrder"/>).
/// Symbolic links are never followed (a link could lead out of the data folders) and are
/// reported as skipped, as are device files, FIFOs and sockets. Entries the exclude patterns
/// name are left out without a word (a folder is not entered). A folder that cannot be listed
/// or a missing data folder is an entry with a problem; a name no snapshot can hold is reported
/// as unnamed. A file with several names (hard links) inside the data folders is found under each;
/// every name after the first carries the first's path (<see cref="ScanEntry.LinkTo"/>), so a
/// restore can make the links again.
/// </summary>
public static class Scanner
{
    /// <summary>
    /// Scans into a spool: an unlinked temporary file in <paramref name="spoolFolder"/>, so a
    /// device with many files holds none of their entries in memory.
    /// </summary>
    public static ScanResult Scan(IReadOnlyList<DataFolder> folders, IReadOnlyList<string> exclude, string spoolFolder, CancellationToken cancellationToken)
    {
        var result = new ScanResult(spoolFolder);
        try
        {
            foreach (var entry in Walk(folders, exclude, result, cancellationToken))
            {
                result.Add(entry);
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>The entries one at a time, as the walk finds them; what is skipped goes to <paramref name="report"/>.</summary>
    public static IEnumerable<ScanEntry> Walk(IReadOnlyList<DataFolder> folders, IReadOnlyList<string> exclude, IScanReport report, CancellationToken cancellationToken)
    {
        // The first name of every file with several names, by file system and inode: only files
        // with more than one link are kept, so this stays small on an ordinary device.
        var firstNames = new Dictionary<(ulong Device, ulong Inode), string>();
        foreach (var folder in folders)
        {
            var rules = ExcludeRules.Parse([.. exclude, .. folder.Exclude ?? []]);
            var root = new DirectoryInfo(folder.Path);
            if (!root.Exists)
            {
                // Unmounted, deleted, renamed: the host keeps what it had under this label.
                yield return new ScanEntry(folder.Label, root.FullName, EntryKind.Directory, 0, 0, 0, 0, $"the data folder {root.FullName} does not exist (not mounted?)");
                continue;
            }

            foreach (var entry in Folder(root, folder.Label, "", rules, report, firstNames, cancellationToken))
            {
                yield return entry;
            }
        }
    }

    /// <summary>A folder's own entry, then (when it can be listed) everything beneath it.</summary>
    private static IEnumerable<ScanEntry> Folder(DirectoryInfo directory, string path, string relative, ExcludeRules rules, IScanReport report, Dictionary<(ulong, ulong), string> firstNames, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        FileSystemInfo[] children;
        string? unlisted = null;
        try
        {
            children = directory.GetFileSystemInfos();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            children = [];
            unlisted = $"cannot list the folder: {Reason(e)}";
        }

        if (unlisted is not null)
        {
            yield return Entry(path, directory) with { Problem = unlisted };
            yield break;
        }

        yield return Entry(path, directory);
        Array.Sort(children, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var child in children)
        {
            var childPath = path + "/" + child.Name;
            var childRelative = relative.Length == 0 ? child.Name : relative + "/" + child.Name;
            if (rules.IsExcluded(childRelative, child is DirectoryInfo && !child.Attributes.HasFlag(FileAttributes.ReparsePoint)))
            {
                continue;
            }

            // .NET marks a symbolic link (dangling or not) as a reparse point from its lstat; no
            // readlink(2) per entry is needed to tell.
            if (child.Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                report.Skipped($"{child.FullName}: symbolic link, not followed");
                continue;
            }

            var problem = SnapshotPath.Check(childPath);
            if (problem is not null)
            {
                report.Unnamed($"{Printable(child.FullName)}: not backed up, its name cannot be stored: {problem}");
                continue;
            }

            if (child is DirectoryInfo sub)
            {
                foreach (var entry in Folder(sub, childPath, childRelative, rules, report, firstNames, cancellationToken))
                {
                    yield return entry;
                }
            }
            else if (child is FileInfo file)
            {
                ScanEntry? entry;
                try
                {
                    entry = FileEntry(childPath, file, firstNames);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    entry = new ScanEntry(childPath, file.FullName, EntryKind.File, 0, 0, 0, 0, $"cannot read its details: {Reason(e)}");
                }

                if (entry is null)
                {
                    report.Skipped($"{child.FullName}: not a regular file (device, FIFO or socket)");
                    continue;
                }

                yield return entry;
            }
        }
    }

    /// <summary>
    /// Why a file or folder could not be read, short: .NET's own message for a denied access
    /// repeats the whole path, which the problem names already.
    /// </summary>
    internal static string Reason(Exception e) => e is UnauthorizedAccessException
        ? "permission denied"
        : e.Message.TrimEnd('.');

    /// <summary>A name the path rules refuse may hold control characters: shown with them replaced.</summary>
    private static string Printable(string text) => WireText.CleanAtMost(text, 900);

    private static uint Mode(FileSystemInfo info) => OperatingSystem.IsWindows() ? 0u : (uint)info.UnixFileMode;

    private static ScanEntry Entry(string path, DirectoryInfo info) =>
        new(path, info.FullName, EntryKind.Directory, 0, TreeEntry.ToUnixNs(info.LastWriteTimeUtc), 0, Mode(info));

    /// <summary>The entry of a regular file; null for a device, FIFO or socket, which are not backed up.</summary>
    private static ScanEntry? FileEntry(string path, FileInfo info, Dictionary<(ulong, ulong), string> firstNames)
    {
        var stat = FileIdentity.Stat(info.FullName);
        if (!stat.IsRegular)
        {
            return null;
        }

        string? linkTo = null;
        if (stat.Links > 1 && !firstNames.TryAdd((stat.Device, stat.Inode), path))
        {
            linkTo = firstNames[(stat.Device, stat.Inode)];
        }

        return new ScanEntry(path, info.FullName, EntryKind.File, info.Length, TreeEntry.ToUnixNs(info.LastWriteTimeUtc), stat.Inode, Mode(info), LinkTo: linkTo);
    }
}
