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
    public Task<RestoreResult> RestoreAsync(SnapshotInfo snapshot, string target, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken) =>
        // The work is blocking disk I/O (positional reads and writes): run it off the caller's thread.
        Task.Run(() => Restore(snapshot, target, progress, cancellationToken), cancellationToken);

    public RestoreResult Restore(SnapshotInfo snapshot, string target, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var entries = reader.LoadTree(snapshot);
        var root = Path.GetFullPath(target);
        Directory.CreateDirectory(root);
        var total = entries.Where(e => e.Kind == EntryKind.File).Sum(e => e.Size);
        long done = 0;
        long files = 0;
        var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
        var created = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Resolve(root, entry.Path);
            if (entry.Kind == EntryKind.Directory)
            {
                if (created.Add(path))
                {
                    Directory.CreateDirectory(path);
                }

                continue;
            }

            var folder = Path.GetDirectoryName(path)!;
            if (created.Add(folder))
            {
                Directory.CreateDirectory(folder);
            }

            // A short temporary name: the file's own name may already be as long as names go.
            var temp = Path.Combine(folder, $".cradle-{Guid.NewGuid():N}.tmp");
            try
            {
                // Positional writes on a plain handle: no stream buffer to fill and copy, and no
                // per-file allocation beyond the handle, which matters for many small files.
                using var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None);
                long written = 0;
                foreach (var id in entry.Chunks)
                {
                    var location = reader.Locate(id);
                    var raw = buffer.AsMemory(0, location.Entry.RawLength);
                    reader.ReadChunk(location, raw.Span);
                    RandomAccess.Write(file, raw.Span, written);
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
