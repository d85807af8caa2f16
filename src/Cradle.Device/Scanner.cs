using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Device;

/// <summary>One file or folder found in the data folders.</summary>
public sealed record ScanEntry(string Path, string FullPath, EntryKind Kind, long Size, long MtimeUnixNs, ulong Inode, uint Mode);

/// <summary>
/// Walks the data folders in a stable order. Symbolic links are never followed (a link could
/// lead out of the data folders) and are reported as skipped, as are entries whose names
/// cannot be stored safely.
/// </summary>
public static class Scanner
{
    public static ScanResult Scan(IReadOnlyList<DataFolder> folders, CancellationToken cancellationToken)
    {
        var entries = new List<ScanEntry>();
        var skipped = new List<string>();
        foreach (var folder in folders)
        {
            var root = new DirectoryInfo(folder.Path);
            if (!root.Exists)
            {
                skipped.Add($"{folder.Path}: the data folder does not exist");
                continue;
            }

            entries.Add(Entry(folder.Label, root));
            Walk(root, folder.Label, entries, skipped, cancellationToken);
        }

        return new ScanResult(entries, skipped);
    }

    private static void Walk(DirectoryInfo directory, string prefix, List<ScanEntry> entries, List<string> skipped, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        FileSystemInfo[] children;
        try
        {
            children = directory.GetFileSystemInfos();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            skipped.Add($"{directory.FullName}: {e.Message}");
            return;
        }

        Array.Sort(children, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var child in children)
        {
            var path = prefix + "/" + child.Name;
            // .NET marks a symbolic link (dangling or not) as a reparse point from its lstat; no
            // readlink(2) per entry is needed to tell.
            if (child.Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                skipped.Add($"{child.FullName}: symbolic link, not followed");
                continue;
            }

            var problem = SnapshotPath.Check(path);
            if (problem is not null)
            {
                skipped.Add($"{child.FullName}: {problem}");
                continue;
            }

            if (child is DirectoryInfo sub)
            {
                entries.Add(Entry(path, sub));
                Walk(sub, path, entries, skipped, cancellationToken);
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
                    skipped.Add($"{child.FullName}: {e.Message}");
                    continue;
                }

                if (entry is null)
                {
                    skipped.Add($"{child.FullName}: not a regular file (device, FIFO or socket)");
                    continue;
                }

                entries.Add(entry);
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

public sealed record ScanResult(List<ScanEntry> Entries, List<string> Skipped)
{
    /// <summary>Regular files found (counted once: progress reports ask for it many times).</summary>
    public long Files { get; } = Entries.Count(e => e.Kind == EntryKind.File);

    public long Bytes { get; } = Entries.Sum(e => e.Size);
}
