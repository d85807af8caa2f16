using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Walk;

/// <summary>Why a folder is backed up.</summary>
public enum BackupFolderKind
{
    /// <summary>The device's documents folder (CSIDL_PERSONAL, <c>\My Documents</c> unless localized).</summary>
    Documents,

    /// <summary>A folder in the root marked as a mounted volume (a storage card).</summary>
    StorageCard,

    /// <summary>A folder the operator added.</summary>
    Extra,
}

/// <summary>A folder on the device that the backup walks.</summary>
public sealed record BackupFolder(string DevicePath, BackupFolderKind Kind)
{
    public string SnapshotPath => CePath.ToSnapshotPath(DevicePath);
}

/// <summary>The folders a backup walks, and the operator's folders that the device does not have.</summary>
public sealed record DeviceFolders(IReadOnlyList<BackupFolder> Folders, IReadOnlyList<string> Missing);

/// <summary>Finds the folders to back up on a device.</summary>
public static class BackupFolderDiscovery
{
    public const string DefaultDocuments = @"\My Documents";

    /// <summary>
    /// The documents folder (asked of the device; <c>\My Documents</c> if it cannot say), every
    /// storage card it reports (root folders with the temporary attribute, as Windows CE marks
    /// mounted volumes), and <paramref name="extraFolders"/>. A folder inside another is walked
    /// once, as part of the outer one.
    /// </summary>
    public static async ValueTask<DeviceFolders> DiscoverAsync(RapiClient rapi, IEnumerable<string> extraFolders, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        var wanted = new List<BackupFolder>();
        var missing = new List<string>();

        // Asked together (one round trip, not three): the documents folder, the root's folders
        // (the storage cards, and the documents folder itself when it is in the root), the operator's.
        var documentsAsked = DocumentsFolderAsync(rapi, cancellationToken);
        var rootAsked = rapi.FindAllFilesAsync(@"\*.*", FindAllFilesFlags.Attributes | FindAllFilesFlags.Name, cancellationToken).AsTask();
        var extras = extraFolders.Select(CePath.NormalizeFolder).ToList();
        var extrasAsked = extras.Select(path => IsFolderAsync(rapi, path, cancellationToken)).ToList();
        await Task.WhenAll([documentsAsked, rootAsked, .. extrasAsked]).ConfigureAwait(false);
        var documents = await documentsAsked.ConfigureAwait(false);
        var root = await rootAsked.ConfigureAwait(false);

        // A folder in the root is known from the root's listing; a deeper one is asked for.
        if (documents.Length > 1 && documents.LastIndexOf('\\') == 0
            ? root.Any(e => e.IsDirectory && string.Equals(e.Name, documents[1..], StringComparison.OrdinalIgnoreCase))
            : await IsFolderAsync(rapi, documents, cancellationToken).ConfigureAwait(false))
        {
            wanted.Add(new BackupFolder(documents, BackupFolderKind.Documents));
        }

        foreach (var entry in root.Where(e => e.IsDirectory && (e.Attributes & CeFileAttributes.Temporary) != 0).OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase))
        {
            wanted.Add(new BackupFolder(CePath.Combine("\\", entry.Name), BackupFolderKind.StorageCard));
        }

        for (var i = 0; i < extras.Count; i++)
        {
            if (await extrasAsked[i].ConfigureAwait(false))
            {
                wanted.Add(new BackupFolder(extras[i], BackupFolderKind.Extra));
            }
            else
            {
                missing.Add(extras[i]);
            }
        }

        return new DeviceFolders(RemoveNested(wanted), missing);
    }

    private static async Task<string> DocumentsFolderAsync(RapiClient rapi, CancellationToken cancellationToken)
    {
        try
        {
            return CePath.NormalizeFolder(await rapi.GetSpecialFolderPathAsync(CeSpecialFolder.Personal, cancellationToken).ConfigureAwait(false));
        }
        catch (RapiCallException)
        {
            return DefaultDocuments;
        }
        catch (ArgumentException)
        {
            // A path the device gave that is not one (relative, with a bad name): use the default.
            return DefaultDocuments;
        }
    }

    private static async Task<bool> IsFolderAsync(RapiClient rapi, string path, CancellationToken cancellationToken) =>
        await rapi.GetFileAttributesAsync(path, cancellationToken).ConfigureAwait(false) is { } attributes && (attributes & CeFileAttributes.Directory) != 0;

    private static List<BackupFolder> RemoveNested(List<BackupFolder> folders)
    {
        var kept = new List<BackupFolder>();
        foreach (var folder in folders)
        {
            if (kept.Any(k => IsInside(folder.DevicePath, k.DevicePath)))
            {
                continue; // already walked as part of an earlier folder (or named twice)
            }

            kept.RemoveAll(k => IsInside(k.DevicePath, folder.DevicePath));
            kept.Add(folder);
        }

        return kept;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or below it (Windows CE compares names ignoring case).</summary>
    private static bool IsInside(string path, string folder) =>
        string.Equals(path, folder, StringComparison.OrdinalIgnoreCase)
        || (folder == "\\" ? path.Length > 1 : path.StartsWith(folder + "\\", StringComparison.OrdinalIgnoreCase));
}
