using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Restores a snapshot into a folder: file contents (every chunk verified), folders (empty
/// ones too) and modification times. Every path is checked again and must stay inside the
/// target; each file is written to a temporary name and renamed into place.
/// </summary>
public sealed class FolderRestorer(SnapshotReader reader)
{
    /// <summary>Progress: bytes restored so far and the total.</summary>
    public async Task<RestoreResult> RestoreAsync(SnapshotInfo snapshot, string target, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var entries = reader.LoadTree(snapshot);
        var root = Path.GetFullPath(target);
        Directory.CreateDirectory(root);
        var total = entries.Where(e => e.Kind == EntryKind.File).Sum(e => e.Size);
        long done = 0;
        long files = 0;
        var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Resolve(root, entry.Path);
            if (entry.Kind == EntryKind.Directory)
            {
                Directory.CreateDirectory(path);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // A short temporary name: the file's own name may already be as long as names go.
            var temp = Path.Combine(Path.GetDirectoryName(path)!, $".cradle-{Guid.NewGuid():N}.tmp");
            try
            {
                await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                long written = 0;
                foreach (var id in entry.Chunks)
                {
                    var location = reader.Locate(id);
                    var raw = buffer.AsMemory(0, location.Entry.RawLength);
                    reader.ReadChunk(location, raw.Span);
                    await file.WriteAsync(raw, cancellationToken).ConfigureAwait(false);
                    written += raw.Length;
                    done += raw.Length;
                    progress?.Report(new RestoreProgress(done, total, files));
                }

                if (written != entry.Size)
                {
                    throw new StoreCorruptException($"snapshot {snapshot.Id}: {entry.Path} should be {entry.Size} bytes, its chunks make {written}");
                }
            }
            catch
            {
                // Nothing half-restored is left in the user's folder.
                File.Delete(temp);
                throw;
            }

            File.Move(temp, path, overwrite: true);
            File.SetLastWriteTimeUtc(path, entry.MtimeUtc);
            files++;
        }

        // Folder times last: creating the files inside a folder changes its time.
        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Directory).OrderByDescending(e => e.Path.Length))
        {
            Directory.SetLastWriteTimeUtc(Resolve(root, entry.Path), entry.MtimeUtc);
        }

        progress?.Report(new RestoreProgress(done, total, files));
        return new RestoreResult(files, entries.Count - files, done);
    }

    /// <summary>Maps a snapshot path under <paramref name="root"/>, refusing anything that would leave it.</summary>
    public static string Resolve(string root, string snapshotPath)
    {
        SnapshotPath.Validate(snapshotPath);
        var full = Path.GetFullPath(Path.Combine(root, snapshotPath.Replace('/', Path.DirectorySeparatorChar)));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ProtocolViolationException($"refused path \"{snapshotPath}\": it leads outside {root}");
        }

        return full;
    }
}

public readonly record struct RestoreProgress(long Bytes, long TotalBytes, long Files);

public sealed record RestoreResult(long Files, long Folders, long Bytes);
