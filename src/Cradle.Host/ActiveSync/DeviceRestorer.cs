using Cradle.ActiveSync;
using Cradle.ActiveSync.Rapi;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host.ActiveSync;

/// <summary>How far a restore onto a device is: files and bytes written of the total, and the file being written.</summary>
public readonly record struct DeviceRestoreProgress(long Files, long TotalFiles, long Bytes, long TotalBytes, string? Path);

/// <summary>A file or folder of the snapshot that was not written, and why.</summary>
public sealed record DeviceRestoreFailure(string Path, string Reason);

/// <summary>
/// What a restore onto a device did. <see cref="Complete"/> only when every selected entry was
/// written; <see cref="Interrupted"/> says why it stopped early (the link dropped).
/// <see cref="TimesSet"/> is false on RAPI1 devices (no known encoding of CeSetFileTime): the
/// bytes are restored, the files carry the time of the restore.
/// </summary>
public sealed record DeviceRestoreResult(
    string Device, long Snapshot, string? Path, string Standing, long Files, long Folders, long Bytes, bool TimesSet,
    List<DeviceRestoreFailure> Failed, string? Interrupted)
{
    /// <summary>The temporary name a file is written under in its folder before it is moved into place.</summary>
    public const string TempName = "~cradle-restore.tmp";

    public bool Complete => Failed.Count == 0 && Interrupted is null;

    /// <summary>The outcome in one line, for the log, the session board and the CLI.</summary>
    public string Describe()
    {
        var what = $"snapshot {Snapshot}{(Path is null ? "" : $" ({Path})")}: {Files} files, {Bytes} bytes, {Folders} folders made";
        var times = TimesSet ? "" : "; times NOT set (RAPI1 device: no known encoding of CeSetFileTime), the files carry the time of the restore";
        var failed = Failed.Count == 0 ? "" : $"; {Failed.Count} NOT restored (first: {Failed[0].Path}: {Failed[0].Reason})";
        var cut = Interrupted is null ? "" : $"; INTERRUPTED: {Interrupted}";
        return $"restored {what}{times}{failed}{cut}";
    }
}

/// <summary>
/// Writes a snapshot's files onto an ActiveSync device over RAPI. Every file goes to a temporary
/// name in its folder (<see cref="TempName"/>) and is moved into place only when all its bytes are
/// written and its time is set: a cable pulled mid-file leaves the temporary file, never a half
/// file under a real name. Folders are created as needed below a root folder the device has
/// (Cradle creates nothing in the device's root: a storage card that is not inserted is a failure,
/// not a new folder). Paths a device cannot hold are refused one by one (<see cref="CePath.CheckWritable"/>).
/// </summary>
internal sealed class DeviceRestorer(RapiClient rapi, SnapshotReader reader, int blockSize)
{
    /// <summary>The temporary name in each folder: one file is written at a time, and the next restore removes a leftover.</summary>
    public const string TempName = DeviceRestoreResult.TempName;

    private const long FileTimeOf1970 = 116_444_736_000_000_000;
    private const uint ErrorAlreadyExists = 183;
    private const uint ErrorFileExists = 80;

    private readonly HashSet<string> _folders = new(StringComparer.OrdinalIgnoreCase) { "\\" };
    private readonly List<DeviceRestoreFailure> _failed = [];

    /// <summary>The entries of <paramref name="snapshot"/> at or below <paramref name="path"/> (all when null); refuses a path that selects nothing.</summary>
    public static async Task<List<TreeEntry>> SelectAsync(SnapshotReader reader, SnapshotInfo snapshot, string? path, CancellationToken cancellationToken)
    {
        var tree = await reader.LoadTreeAsync(snapshot, cancellationToken).ConfigureAwait(false);
        if (path is null)
        {
            return tree;
        }

        var selected = tree.Where(e => string.Equals(e.Path, path, StringComparison.OrdinalIgnoreCase)
            || e.Path.StartsWith(path + "/", StringComparison.OrdinalIgnoreCase)).ToList();
        return selected.Count > 0 ? selected : throw new ArgumentException($"snapshot {snapshot.Id} of {snapshot.Device} holds nothing at {path}");
    }

    public async Task<DeviceRestoreResult> RestoreAsync(SnapshotInfo snapshot, string? path, string standing, IReadOnlyList<TreeEntry> entries,
        IProgress<DeviceRestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var timesSet = rapi.Version == RapiVersion.Rapi2;
        var totalFiles = entries.LongCount(e => e.Kind == EntryKind.File);
        var totalBytes = entries.Where(e => e.Kind == EntryKind.File).Sum(e => e.Size);
        long files = 0, folders = 0, bytes = 0;
        string? interrupted = null;
        var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
        foreach (var entry in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            if (CePath.CheckWritable(entry.Path) is { } hostile)
            {
                _failed.Add(new DeviceRestoreFailure(entry.Path, $"refused: {hostile}"));
                continue;
            }

            var devicePath = CePath.FromSnapshotPath(entry.Path);
            progress?.Report(new DeviceRestoreProgress(files, totalFiles, bytes, totalBytes, entry.Path));
            try
            {
                if (entry.Kind == EntryKind.Directory)
                {
                    folders += await EnsureFolderAsync(devicePath, cancellationToken).ConfigureAwait(false) ? 1 : 0;
                    continue;
                }

                await EnsureFolderAsync(Parent(devicePath), cancellationToken).ConfigureAwait(false);
                await WriteFileAsync(snapshot, entry, devicePath, buffer, timesSet, b => progress?.Report(new DeviceRestoreProgress(files, totalFiles, bytes + b, totalBytes, entry.Path)), cancellationToken).ConfigureAwait(false);
                files++;
                bytes += entry.Size;
            }
            catch (CradleException e) when (rapi.IsBroken)
            {
                // The link is gone (cable out, device vanished): nothing more can be written. The
                // file in hand stays under its temporary name on the device.
                interrupted = $"the link to the device dropped while {entry.Path} was written ({e.Message}); it was left under its temporary name {TempName}, not under its own";
                break;
            }
            catch (RestoreEntryException e)
            {
                _failed.Add(new DeviceRestoreFailure(entry.Path, e.Message));
            }
            catch (RapiCallException e)
            {
                _failed.Add(new DeviceRestoreFailure(entry.Path, e.Message));
            }
        }

        progress?.Report(new DeviceRestoreProgress(files, totalFiles, bytes, totalBytes, null));
        return new DeviceRestoreResult(snapshot.Device, snapshot.Id, path, standing, files, folders, bytes, timesSet, [.. _failed], interrupted);
    }

    private async Task WriteFileAsync(SnapshotInfo snapshot, TreeEntry entry, string devicePath, byte[] buffer, bool setTime, Action<long> written, CancellationToken cancellationToken)
    {
        var folder = Parent(devicePath);
        var temp = CePath.Combine(folder, TempName);
        if (temp.Length + 1 > CePath.MaxNameChars)
        {
            throw new RestoreEntryException($"its folder's path is too long for the temporary file beside it ({temp.Length + 1} characters, Windows CE's MAX_PATH is {CePath.MaxNameChars})");
        }

        await DeleteIfPresentAsync(temp, cancellationToken).ConfigureAwait(false);
        var handle = await rapi.CreateFileAsync(temp, CeFileAccess.GenericWrite, 0, CeFileAccess.CreateAlways, CeFileAccess.AttributeNormal, cancellationToken).ConfigureAwait(false);
        var open = true;
        try
        {
            long done = 0;
            foreach (var id in entry.Chunks)
            {
                var location = reader.Locate(id);
                var raw = buffer.AsMemory(0, location.Entry.RawLength);
                await reader.ReadChunkAsync(location, raw, cancellationToken).ConfigureAwait(false);
                for (var at = 0; at < raw.Length; at += blockSize)
                {
                    var block = raw.Slice(at, Math.Min(blockSize, raw.Length - at));
                    var accepted = await rapi.WriteFileAsync(handle, block, cancellationToken).ConfigureAwait(false);
                    if (accepted != block.Length)
                    {
                        throw new RestoreEntryException($"the device wrote {accepted} of {block.Length} bytes (is it full?)");
                    }

                    done += block.Length;
                    written(done);
                }
            }

            if (done != entry.Size)
            {
                throw new StoreCorruptException($"snapshot {snapshot.Id}: {entry.Path} should be {entry.Size} bytes, its chunks make {done}");
            }

            if (setTime)
            {
                var fileTime = entry.MtimeUnixNs / 100 + FileTimeOf1970;
                await rapi.SetFileTimeAsync(handle, new CeFileTimes(null, null, fileTime), cancellationToken).ConfigureAwait(false);
            }

            open = false;
            await rapi.CloseHandleAsync(handle, cancellationToken).ConfigureAwait(false);
            await MoveIntoPlaceAsync(temp, devicePath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!rapi.IsBroken)
        {
            // A file that failed on a live link: its temporary file goes, the real name keeps what it had.
            if (open)
            {
                await rapi.CloseHandleAsync(handle, cancellationToken).ConfigureAwait(false);
            }

            await DeleteIfPresentAsync(temp, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// CeMoveFile fails when the name exists, so an existing file is deleted first: between the
    /// two calls the name is absent for a moment, never half written.
    /// </summary>
    private async Task MoveIntoPlaceAsync(string temp, string devicePath, CancellationToken cancellationToken)
    {
        var existing = await rapi.GetFileAttributesAsync(devicePath, cancellationToken).ConfigureAwait(false);
        if (existing is { } attributes)
        {
            if (attributes.HasFlag(CeFileAttributes.Directory))
            {
                throw new RestoreEntryException("the device has a folder under this name; it was left as it is");
            }

            await rapi.DeleteFileAsync(devicePath, cancellationToken).ConfigureAwait(false);
        }

        await rapi.MoveFileAsync(temp, devicePath, cancellationToken).ConfigureAwait(false);
    }

    private async Task DeleteIfPresentAsync(string path, CancellationToken cancellationToken)
    {
        if (await rapi.GetFileAttributesAsync(path, cancellationToken).ConfigureAwait(false) is not null)
        {
            await rapi.DeleteFileAsync(path, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Makes <paramref name="folder"/> and the folders above it, below a root folder the device has; true when it made the last one.</summary>
    private async Task<bool> EnsureFolderAsync(string folder, CancellationToken cancellationToken)
    {
        if (_folders.Contains(folder))
        {
            return false;
        }

        var parent = Parent(folder);
        if (parent != "\\")
        {
            await EnsureFolderAsync(parent, cancellationToken).ConfigureAwait(false);
        }

        var attributes = await rapi.GetFileAttributesAsync(folder, cancellationToken).ConfigureAwait(false);
        if (attributes is { } found)
        {
            if (!found.HasFlag(CeFileAttributes.Directory))
            {
                throw new RestoreEntryException($"{folder} is a file on the device, not a folder; it was left as it is");
            }

            _folders.Add(folder);
            return false;
        }

        if (parent == "\\")
        {
            // A root folder the device lacks is most often a storage card that is not inserted:
            // making a folder of that name in the object store would restore into the wrong place.
            throw new RestoreEntryException($"the device has no {folder} (a storage card that is not inserted?); Cradle creates no folder in the device's root");
        }

        try
        {
            await rapi.CreateDirectoryAsync(folder, cancellationToken).ConfigureAwait(false);
        }
        catch (RapiCallException e) when (e.Win32Error is ErrorAlreadyExists or ErrorFileExists)
        {
            // Made meanwhile (the device's own program, another session): it is there, which is what counts.
        }

        _folders.Add(folder);
        return true;
    }

    private static string Parent(string devicePath)
    {
        var at = devicePath.LastIndexOf('\\');
        return at <= 0 ? "\\" : devicePath[..at];
    }

    /// <summary>One entry could not be written; the restore goes on with the next.</summary>
    private sealed class RestoreEntryException(string message) : Exception(message);
}
