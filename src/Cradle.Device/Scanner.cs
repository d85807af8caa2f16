using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Device;

/// <summary>One file or folder found in the data folders.</summary>
public sealed record ScanEntry(string Path, string FullPath, EntryKind Kind, long Size, long MtimeUnixNs, ulong Inode, uint Mode);

/// <summary>
/// Walks the data folders in a stable order: the folders as configured, and in each the names
/// of a folder in ordinal order, a subfolder's entries right after its own (<see cref="ScanOrder"/>).
/// Symbolic links are never followed (a link could lead out of the data folders) and are
/// reported as skipped, as are entries whose names cannot be stored safely.
/// </summary>
public static class Scanner
{
    /// <summary>
    /// Scans into a spool: an unlinked temporary file in <paramref name="spoolFolder"/>, so a
    /// device with many files holds none of their entries in memory.
    /// </summary>
    public static ScanResult Scan(IReadOnlyList<DataFolder> folders, string spoolFolder, CancellationToken cancellationToken)
    {
        var result = new ScanResult(spoolFolder);
        try
        {
            foreach (var entry in Walk(folders, result.Skipped.Add, cancellationToken))
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

    /// <summary>The entries one at a time, as the walk finds them; what is skipped goes to <paramref name="skipped"/>.</summary>
    public static IEnumerable<ScanEntry> Walk(IReadOnlyList<DataFolder> folders, Action<string> skipped, CancellationToken cancellationToken)
    {
        foreach (var folder in folders)
        {
            var root = new DirectoryInfo(folder.Path);
            if (!root.Exists)
            {
                skipped($"{folder.Path}: the data folder does not exist");
                continue;
            }

            yield return Entry(folder.Label, root);
            foreach (var entry in Walk(root, folder.Label, skipped, cancellationToken))
            {
                yield return entry;
            }
        }
    }

    private static IEnumerable<ScanEntry> Walk(DirectoryInfo directory, string prefix, Action<string> skipped, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        FileSystemInfo[] children;
        try
        {
            children = directory.GetFileSystemInfos();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            skipped($"{directory.FullName}: {e.Message}");
            yield break;
        }

        Array.Sort(children, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var child in children)
        {
            var path = prefix + "/" + child.Name;
            // .NET marks a symbolic link (dangling or not) as a reparse point from its lstat; no
            // readlink(2) per entry is needed to tell.
            if (child.Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                skipped($"{child.FullName}: symbolic link, not followed");
                continue;
            }

            var problem = SnapshotPath.Check(path);
            if (problem is not null)
            {
                skipped($"{child.FullName}: {problem}");
                continue;
            }

            if (child is DirectoryInfo sub)
            {
                yield return Entry(path, sub);
                foreach (var entry in Walk(sub, path, skipped, cancellationToken))
                {
                    yield return entry;
                }
            }
            else if (child is FileInfo file)
            {
                ScanEntry? entry;
                try
                {
                    entry = FileEntry(path, file);
                }
                catch (IOException e)
                {
                    skipped($"{child.FullName}: {e.Message}");
                    continue;
                }

                if (entry is null)
                {
                    skipped($"{child.FullName}: not a regular file (device, FIFO or socket)");
                    continue;
                }

                yield return entry;
            }
        }
    }

    private static uint Mode(FileSystemInfo info) => OperatingSystem.IsWindows() ? 0u : (uint)info.UnixFileMode;

    private static ScanEntry Entry(string path, DirectoryInfo info) =>
        new(path, info.FullName, EntryKind.Directory, 0, TreeEntry.ToUnixNs(info.LastWriteTimeUtc), 0, Mode(info));

    /// <summary>The entry of a regular file; null for a device, FIFO or socket, which are not backed up.</summary>
    private static ScanEntry? FileEntry(string path, FileInfo info)
    {
        var (inode, regular) = FileIdentity.Stat(info.FullName);
        return regular
            ? new ScanEntry(path, info.FullName, EntryKind.File, info.Length, TreeEntry.ToUnixNs(info.LastWriteTimeUtc), inode, Mode(info))
            : null;
    }
}

