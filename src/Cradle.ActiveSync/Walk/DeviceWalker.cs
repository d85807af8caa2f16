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

    /// <summary>Listings made so far (one per folder).</summary>
    public int Listings { get; private set; }

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
            Listings++;
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
}
