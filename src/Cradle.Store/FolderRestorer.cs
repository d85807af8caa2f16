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

        // Folders first (empty ones too), each made once, every path checked before anything is written.
        var created = new HashSet<string>(StringComparer.Ordinal);
        var work = new List<(TreeEntry Entry, string Path)>();
        foreach (var entry in entries)
        {
            var path = Resolve(root, entry.Path);
            var folder = entry.Kind == EntryKind.Directory ? path : Path.GetDirectoryName(path)!;
            if (created.Add(folder))
            {
                Directory.CreateDirectory(folder);
            }

            if (entry.Kind == EntryKind.File)
            {
                work.Add((entry, path));
            }
        }

        // Files on every core: reading, decompressing and verifying chunks is CPU work. A fixed
        // set of workers takes the files in turn, each with its own reader (its own catalog
        // connection, pack handles and zstd context) made once. (Parallel.ForEach's localInit is
        // not that: it runs again for each task replica, and a reader per replica made memory
        // grow with the number of files.) A worker takes a folder's files at a time (up to
        // BatchBytes): creating and renaming files takes the folder's lock in the kernel, and
        // two workers making small files in one folder spent a third of the restore's CPU
        // spinning on it (perf, docs/BENCHMARKS.md).
        var batches = Batches(work);
        long done = 0;
        long files = 0;
        var next = -1;
        var workerCount = Math.Clamp(Environment.ProcessorCount, 1, 4);
        var workers = new List<SnapshotReader>(workerCount);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            for (var i = 0; i < workerCount; i++)
            {
                workers.Add(reader.Fork());
            }

            var tasks = workers.Select(worker => Task.Run(
                () =>
                {
                    var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
                    try
                    {
                        int index;
                        while ((index = Interlocked.Increment(ref next)) < batches.Count)
                        {
                            for (var i = batches[index].Start; i < batches[index].End; i++)
                            {
                                stop.Token.ThrowIfCancellationRequested();
                                var item = work[i];
                                RestoreFile(worker, buffer, snapshot, item.Entry, item.Path);
                                var bytesNow = Interlocked.Add(ref done, item.Entry.Size);
                                var filesNow = Interlocked.Increment(ref files);
                                progress?.Report(new RestoreProgress(bytesNow, total, filesNow));
                            }
                        }
                    }
                    catch
                    {
                        // One failure stops the other workers at their next file.
                        stop.Cancel();
                        throw;
                    }
                },
                CancellationToken.None)).ToArray();
            try
            {
                Task.WaitAll(tasks, CancellationToken.None);
            }
            catch (AggregateException e)
            {
                // Report the first real failure (a damaged chunk, a full disk) as itself, not wrapped.
                var first = e.Flatten().InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.Flatten().InnerExceptions[0];
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
                throw;
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }

        // Folder times last: creating the files inside a folder changes its time.
        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Directory).OrderByDescending(e => e.Path.Length))
        {
            var folder = Resolve(root, entry.Path);
            FileModes.Apply(folder, entry.Mode);
            Directory.SetLastWriteTimeUtc(folder, entry.MtimeUtc);
        }

        progress?.Report(new RestoreProgress(done, total, files));
        return new RestoreResult(files, entries.Count - files, done, workers.Count);
    }

    /// <summary>Most bytes of files one worker takes at a time from one folder.</summary>
    public const long BatchBytes = 8L * 1024 * 1024;

    /// <summary>
    /// Cuts the files (in tree order, so a folder's files follow each other) into runs of one
    /// folder each, a run ending where the folder does or where it reaches <see cref="BatchBytes"/>.
    /// </summary>
    public static List<(int Start, int End)> Batches(List<(TreeEntry Entry, string Path)> work)
    {
        var batches = new List<(int Start, int End)>();
        var start = 0;
        long bytes = 0;
        for (var i = 0; i < work.Count; i++)
        {
            if (i > start && (bytes >= BatchBytes || !SameFolder(work[i].Path, work[start].Path)))
            {
                batches.Add((start, i));
                start = i;
                bytes = 0;
            }

            bytes += work[i].Entry.Size;
        }

        if (work.Count > start)
        {
            batches.Add((start, work.Count));
        }

        return batches;
    }

    private static bool SameFolder(string a, string b) =>
        Path.GetDirectoryName(a.AsSpan()).SequenceEqual(Path.GetDirectoryName(b.AsSpan()));

    private static void RestoreFile(SnapshotReader reader, byte[] buffer, SnapshotInfo snapshot, TreeEntry entry, string path)
    {
        // A short temporary name: the file's own name may already be as long as names go.
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".cradle-{Guid.NewGuid():N}.tmp");
        try
        {
            // Positional writes on a plain handle: no stream buffer to fill and copy, and no
            // per-file allocation beyond the handle, which matters for many small files.
            using var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None);
            long written = 0;
            foreach (var id in entry.Chunks)
            {
                var location = reader.Locate(id);
                var raw = buffer.AsSpan(0, location.Entry.RawLength);
                reader.ReadChunk(location, raw);
                RandomAccess.Write(file, raw, written);
                written += raw.Length;
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
        FileModes.Apply(path, entry.Mode);
        File.SetLastWriteTimeUtc(path, entry.MtimeUtc);
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

/// <summary>What a restore wrote; <paramref name="Readers"/>: the store readers its workers used (one each, made once).</summary>
public sealed record RestoreResult(long Files, long Folders, long Bytes, int Readers);
