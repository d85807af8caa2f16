using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Restores a snapshot into a folder: file contents (every chunk verified), folders (empty
/// ones too) and modification times. Every path is checked again and must stay inside the
/// target; each file is written to a temporary name and renamed into place, with its time
/// already set (<see cref="RestoredFile"/>). The target must be empty, hold only an unfinished
/// restore of the same snapshot (<see cref="RestoreTarget"/>: it resumes), or the caller says
/// overwrite. Files already whole (size, time, every chunk's hash) are left as they are, and
/// temporary files of an earlier cut run are removed.
/// </summary>
internal sealed class FolderRestorer(SnapshotReader reader)
{
    /// <summary>Progress: bytes restored so far and the total.</summary>
    public Task<RestoreResult> RestoreAsync(SnapshotInfo snapshot, string target, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken) =>
        RestoreAsync(snapshot, target, new FolderRestoreOptions(), progress, cancellationToken);

    public Task<RestoreResult> RestoreAsync(SnapshotInfo snapshot, string target, FolderRestoreOptions options, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken) =>
        // Most of the work is blocking disk I/O (positional writes, folders): off the caller's thread.
        Task.Run(() => RestoreCoreAsync(snapshot, target, options, progress, cancellationToken), cancellationToken);

    /// <exception cref="ArgumentException">The target holds something else and <see cref="FolderRestoreOptions.Overwrite"/> was not given.</exception>
    private async Task<RestoreResult> RestoreCoreAsync(SnapshotInfo snapshot, string target, FolderRestoreOptions options, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var entries = await reader.LoadTreeAsync(snapshot, cancellationToken).ConfigureAwait(false);
        var root = Path.GetFullPath(target);
        var found = RestoreTarget.Inspect(root, snapshot, entries);
        if (found.State == RestoreTargetState.Occupied && !options.Overwrite)
        {
            throw new ArgumentException(found.Refusal(root, snapshot));
        }

        var total = entries.Where(e => e.Kind == EntryKind.File).Sum(e => e.Size);
        var folders = new HashSet<string>(StringComparer.Ordinal) { root };
        var work = new List<(TreeEntry Entry, string Path)>();
        // Hard links: an entry whose other name is written by this run with the same chunks is
        // linked to it once the files are written; any other is written as a file of its own.
        var links = new List<(TreeEntry Entry, string Path, string Target)>();
        var linkTargets = entries.Where(e => e.LinkTo is not null).Select(e => e.LinkTo!).ToHashSet(StringComparer.Ordinal);
        var targets = new Dictionary<string, (TreeEntry Entry, string Path)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            // Every path is checked before anything is written.
            var path = Resolve(root, entry.Path);
            folders.Add(entry.Kind == EntryKind.Directory ? path : Path.GetDirectoryName(path)!);
            if (entry.Kind != EntryKind.File)
            {
                continue;
            }

            if (!options.DryRun && entry.LinkTo is not null && targets.TryGetValue(entry.LinkTo, out var other) && other.Entry.Chunks.AsSpan().SequenceEqual(entry.Chunks))
            {
                links.Add((entry, path, other.Path));
                continue;
            }

            work.Add((entry, path));
            if (linkTargets.Contains(entry.Path))
            {
                targets[entry.Path] = (entry, path);
            }
        }

        if (options.DryRun)
        {
            return Preview(work, entries.Count - work.Count, found);
        }

        Directory.CreateDirectory(root);
        RestoreTarget.WriteMarker(root, snapshot);
        var leftovers = 0;
        foreach (var folder in folders)
        {
            // Folders first (empty ones too), and the temporary files of a cut run out of them.
            leftovers += RestoredFile.RemoveLeftovers(folder);
            Directory.CreateDirectory(folder);
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
        long whole = 0;
        long wholeBytes = 0;
        var next = -1;
        var mayHoldWhole = found.State != RestoreTargetState.Empty; // a fresh folder holds nothing to check
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
                async () =>
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
                                if (mayHoldWhole && RestoredFile.IsWhole(item.Path, item.Entry.Size, item.Entry.MtimeUtc, item.Entry.Chunks, id => worker.Locate(id).Entry.RawLength, buffer))
                                {
                                    // Restored by a run that was cut, or there already: left alone.
                                    Interlocked.Increment(ref whole);
                                    Interlocked.Add(ref wholeBytes, item.Entry.Size);
                                }
                                else
                                {
                                    await RestoreFileAsync(worker, buffer, snapshot, item.Entry, item.Path, stop.Token).ConfigureAwait(false);
                                }

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
            var all = Task.WhenAll(tasks);
            try
            {
                await all.ConfigureAwait(false);
            }
            catch (Exception) when (all.Exception is { } e)
            {
                // Report the first real failure (a damaged chunk, a full disk), not another worker's cancellation.
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

        var linked = 0;
        foreach (var (entry, path, otherName) in links)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (FileIdentity.SameFile(otherName, path))
            {
                // A cut run linked it already.
                whole++;
                wholeBytes += entry.Size;
            }
            else
            {
                try
                {
                    RestoredFile.PlaceLink(otherName, path);
                    linked++;
                }
                catch (IOException)
                {
                    // No hard links here (another file system, FAT, too many links): the content, as a file of its own.
                    await RestoreFileAsync(reader, new byte[ChunkerOptions.AbsoluteMaxSize], snapshot, entry, path, cancellationToken).ConfigureAwait(false);
                }
            }

            done += entry.Size;
            files++;
            progress?.Report(new RestoreProgress(done, total, files));
        }

        // Folder times last: creating the files inside a folder changes its time.
        foreach (var entry in entries.Where(e => e.Kind == EntryKind.Directory).OrderByDescending(e => e.Path.Length))
        {
            var folder = Resolve(root, entry.Path);
            FileModes.Apply(folder, entry.Mode);
            Directory.SetLastWriteTimeUtc(folder, entry.MtimeUtc);
        }

        RestoreTarget.RemoveMarker(root);
        progress?.Report(new RestoreProgress(done, total, files));
        return new RestoreResult(files - whole, entries.Count - files, done - wholeBytes, workers.Count) { Whole = whole, WholeBytes = wholeBytes, Leftovers = leftovers, Resumed = found.State == RestoreTargetState.Unfinished, Linked = linked };
    }

    /// <summary>A dry run: what a restore would write and what it would leave (files already whole); nothing is written.</summary>
    private RestoreResult Preview(List<(TreeEntry Entry, string Path)> work, long folders, RestoreTarget found)
    {
        var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
        long files = 0, bytes = 0, whole = 0, wholeBytes = 0, replaced = 0;
        foreach (var (entry, path) in work)
        {
            if (RestoredFile.IsWhole(path, entry.Size, entry.MtimeUtc, entry.Chunks, id => reader.Locate(id).Entry.RawLength, buffer))
            {
                whole++;
                wholeBytes += entry.Size;
                continue;
            }

            files++;
            bytes += entry.Size;
            replaced += File.Exists(path) ? 1 : 0;
        }

        return new RestoreResult(files, folders, bytes, 0) { Whole = whole, WholeBytes = wholeBytes, Replaced = replaced, DryRun = true, Resumed = found.State == RestoreTargetState.Unfinished };
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

    private static async Task RestoreFileAsync(SnapshotReader reader, byte[] buffer, SnapshotInfo snapshot, TreeEntry entry, string path, CancellationToken cancellationToken)
    {
        var temp = RestoredFile.TempPathFor(path);
        try
        {
            // Positional writes on a plain handle: no stream buffer to fill and copy, and no
            // per-file allocation beyond the handle, which matters for many small files.
            using (var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None))
            {
                long written = 0;
                foreach (var id in entry.Chunks)
                {
                    var location = reader.Locate(id);
                    var raw = buffer.AsMemory(0, location.Entry.RawLength);
                    await reader.ReadChunkAsync(location, raw, cancellationToken).ConfigureAwait(false);
                    RandomAccess.Write(file, raw.Span, written);
                    written += raw.Length;
                }

                if (written != entry.Size)
                {
                    throw new StoreCorruptException($"snapshot {snapshot.Id}: {entry.Path} should be {entry.Size} bytes, its chunks make {written}");
                }
            }

            RestoredFile.Place(temp, path, entry.Mode, entry.MtimeUtc);
        }
        catch
        {
            // Nothing half-restored is left in the user's folder.
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Maps a snapshot path under <paramref name="root"/>, refusing anything that would leave it.</summary>
    public static string Resolve(string root, string snapshotPath)
    {
        SnapshotPath.Validate(snapshotPath);
        var full = Path.GetFullPath(Path.Combine(root, snapshotPath.Replace('/', Path.DirectorySeparatorChar)));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new CradleProtocolException($"refused path \"{snapshotPath}\": it leads outside {root}");
        }

        return full;
    }
}

internal readonly record struct RestoreProgress(long Bytes, long TotalBytes, long Files);

/// <summary>How a restore into a folder treats the folder.</summary>
/// <param name="Overwrite">Write into a folder that holds anything but an unfinished restore of the same snapshot (its other files are left alone).</param>
/// <param name="DryRun">Only tell what would be written and what is already whole.</param>
internal sealed record FolderRestoreOptions(bool Overwrite = false, bool DryRun = false);
