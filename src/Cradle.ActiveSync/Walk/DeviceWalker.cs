using System.Runtime.CompilerServices;
using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Walk;

/// <summary>
/// Walks folders on the device with one CeFindAllFiles per folder (attributes, times, size and name
/// in one reply), depth first. Reads no file contents: an unchanged device is re-verified with
/// listings only.
/// </summary>
public sealed class DeviceWalker(RapiClient rapi, ActiveSyncOptions? options = null)
{
    private readonly ActiveSyncOptions _options = (options ?? new ActiveSyncOptions()).Validate();

    private int _listings;

    /// <summary>Listings made so far (one per folder).</summary>
    public int Listings => Volatile.Read(ref _listings);

    /// <summary>
    /// Every file and folder below <paramref name="folder"/> (not the folder itself): a folder's
    /// entries together (one listing, by name), then each of its subfolders' in turn.
    /// </summary>
    public async IAsyncEnumerable<DeviceFileEntry> WalkAsync(BackupFolder folder, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var pending = new Stack<(string Path, int Depth)>();
        pending.Push((folder.DevicePath, 1));
        while (pending.TryPop(out var current))
        {
            var pattern = (current.Path == "\\" ? string.Empty : current.Path) + @"\*.*";
            var entries = await rapi.FindAllFilesAsync(pattern, FindAllFilesFlags.ForBackup, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _listings);
            var folders = new List<string>();
            foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase))
            {
                var path = CePath.Combine(current.Path, entry.Name);
                yield return new DeviceFileEntry(path, CePath.ToSnapshotPath(path), entry.IsDirectory ? 0 : entry.Size, entry.LastWriteTime, entry.CreationTime, entry.Attributes);
                if (entry.IsDirectory)
                {
                    folders.Add(path);
                }
            }

            if (folders.Count > 0 && current.Depth >= _options.MaxFolderDepth)
            {
                throw new ActiveSyncProtocolException($"\"{DeviceText.Printable(current.Path)}\" is nested deeper than {_options.MaxFolderDepth} folders, more than this host walks");
            }

            for (var i = folders.Count - 1; i >= 0; i--)
            {
                pending.Push((folders[i], current.Depth + 1));
            }
        }
    }
    /// <summary>
    /// The same entries in the same order as <see cref="WalkAsync"/>, but the folders of each level
    /// are listed at once on the sessions of <paramref name="pool"/>: a device of many folders is
    /// listed in about as many round trips as its folders are deep, not as it has folders.
    /// </summary>
    public async Task<List<DeviceFileEntry>> ListAsync(RapiSessionPool pool, BackupFolder folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(folder);
        var listed = new Dictionary<string, (List<DeviceFileEntry> Entries, List<string> Folders)>(StringComparer.Ordinal);
        var level = new List<string> { folder.DevicePath };
        for (var depth = 1; level.Count > 0; depth++)
        {
            var listings = level.Select(path => ListOneAsync(pool, path, cancellationToken)).ToList();

            // Every listing of the level ends (or fails) before a failure is thrown: none is left running.
            await Task.WhenAll(listings).ConfigureAwait(false);
            var next = new List<string>();
            for (var i = 0; i < level.Count; i++)
            {
                var one = await listings[i].ConfigureAwait(false);
                listed[level[i]] = one;
                if (one.Folders.Count > 0 && depth >= _options.MaxFolderDepth)
                {
                    throw new ActiveSyncProtocolException($"\"{DeviceText.Printable(level[i])}\" is nested deeper than {_options.MaxFolderDepth} folders, more than this host walks");
                }

                next.AddRange(one.Folders);
            }

            level = next;
        }

        // Laid out as WalkAsync yields them: a folder's entries, then each subfolder's in turn.
        var ordered = new List<DeviceFileEntry>();
        var pending = new Stack<string>();
        pending.Push(folder.DevicePath);
        while (pending.TryPop(out var current))
        {
            var (entries, folders) = listed[current];
            ordered.AddRange(entries);
            for (var i = folders.Count - 1; i >= 0; i--)
            {
                pending.Push(folders[i]);
            }
        }

        return ordered;
    }

    private async Task<(List<DeviceFileEntry> Entries, List<string> Folders)> ListOneAsync(RapiSessionPool pool, string folder, CancellationToken cancellationToken)
    {
        IReadOnlyList<CeFindData> found;
        using (var lease = await pool.RentAsync(cancellationToken).ConfigureAwait(false))
        {
            var pattern = (folder == "\\" ? string.Empty : folder) + @"\*.*";
            found = await lease.Rapi.FindAllFilesAsync(pattern, FindAllFilesFlags.ForBackup, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _listings);
        var entries = new List<DeviceFileEntry>(found.Count);
        var folders = new List<string>();
        foreach (var entry in found.OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase))
        {
            var path = CePath.Combine(folder, entry.Name);
            entries.Add(new DeviceFileEntry(path, CePath.ToSnapshotPath(path), entry.IsDirectory ? 0 : entry.Size, entry.LastWriteTime, entry.CreationTime, entry.Attributes));
            if (entry.IsDirectory)
            {
                folders.Add(path);
            }
        }

        return (entries, folders);
    }
}
