using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Walk;
using Cradle.ActiveSync;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host.ActiveSync;

/// <summary>
/// The backup of an ActiveSync device: the host does what an agent does on its side (walk,
/// compare with the last snapshot, chunk, hash, compress) and what the host does for an agent
/// (store the chunks the device owns, commit the snapshot) through the same
/// <see cref="StoreWriter"/>. A file whose size and last-write time match the previous snapshot
/// is not read: its entry, with that snapshot's chunks, stands again.
/// </summary>
internal sealed partial class ActiveSyncSession
{
    /// <summary>Snapshots, folder entries and the files cache use no Unix mode for these devices: restore leaves the default.</summary>
    private const uint NoMode = 0;

    /// <summary>
    /// How many files or folders one RAPI session works on at once (its calls interleave, answered
    /// in order). A small file waits two round trips (open, then its reads), so it takes this many
    /// at once on each session to keep a fast link full of small files.
    /// </summary>
    private const int UsesPerSession = 8;

    /// <summary>
    /// Files of at least this size are large: each holds a full chunker (512 KiB) and a window of
    /// reads, so at most <see cref="LargeFilesPerSession"/> of them per session are read at once;
    /// smaller ones get a buffer of their size and take the session's other uses.
    /// </summary>
    private const int SmallFileSize = 64 * 1024;

    /// <summary>Large files read at once per RAPI session (the link is full with these; more only costs memory).</summary>
    private const int LargeFilesPerSession = 4;

    /// <summary>Files and folders taken in listing order that may wait, read or not, before the oldest is put in the tree.</summary>
    private const int AheadPerUse = 4;

    private long _filesDone;
    private long _bytesDone;

    /// <summary>
    /// Chunkers of files read before, kept for the next (each holds twice the largest chunk): a
    /// new one per file would leave 512 KiB of large-object garbage per file, which the host's
    /// peak memory showed. At most one per file being read, so at most the pool's capacity.
    /// </summary>
    private readonly ConcurrentBag<Chunker> _chunkers = [];

    private readonly SemaphoreSlim _largeReads = new(options.ActiveSync.RapiSessions * LargeFilesPerSession);

    /// <summary>A backup of a device already partnered (a round while it stays cradled): listed, then stored.</summary>
    private async Task<string> BackupAsync(RapiClient rapi, CancellationToken cancellationToken) =>
        await BackupAsync(ListDeviceAsync(rapi, cancellationToken), cancellationToken).ConfigureAwait(false);

    /// <summary>Backs up what <paramref name="listing"/> found: files unchanged since the last snapshot stand as they were, the others are read.</summary>
    private async Task<string> BackupAsync(Task<DeviceListing> listing, CancellationToken cancellationToken)
    {
        _live.SetPhase("listing");
        var (more, pool, folders, listed, started) = await listing.ConfigureAwait(false);
        try
        {
            var previous = OwnSnapshots.Newest(host.Store, options.Time, _device);
            var earlier = await EarlierFilesAsync(previous, cancellationToken).ConfigureAwait(false);
            var files = listed.Where(e => !e.IsDirectory).ToList();
            var bytes = files.Sum(e => e.Size);
            ActiveSyncHostLog.Listing(logger, _device.Value, files.Count, bytes, folders.Folders.Count, pool.Sessions.Count);
            _live.StartTransfer("backing-up", files.Count, bytes);
            var writer = await host.Store.BeginWriteAsync(_device, cancellationToken).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                try
                {
                    return await StoreAsync(pool, writer, folders, listed, earlier, previous, started, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Keep the chunks that arrived, owned by this device, so the next session need not
                    // read them again; the snapshot itself is never recorded.
                    await writer.AbortAsync(CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }
        }
        finally
        {
            await CloseAsync(more).ConfigureAwait(false);
        }
    }

    private async Task<string> StoreAsync(RapiSessionPool pool, StoreWriter writer, DeviceFolders folders, List<DeviceFileEntry> listed, Dictionary<string, TreeEntry> earlier,
        SnapshotInfo? previous, long started, CancellationToken cancellationToken)
    {
        using var tree = new TreeBuilder(host.Store.TempFolder);
        using var codec = new ChunkCodec();
        var problems = new BackupProblems(host.Store, previous);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        long unchanged = 0;
        foreach (var missing in folders.Missing)
        {
            // A folder the operator named that the device does not have: its earlier files stand in (a partial snapshot).
            var path = CePath.ToSnapshotPath(missing);
            await problems.AddAsync(new TreeEntry(path, EntryKind.Directory, 0, 0, NoMode, []), "the folder is not on the device", tree, paths.Add, writer, cancellationToken).ConfigureAwait(false);
        }

        // Files are read on every session at once; the tree takes them in listing order. The store
        // writer is one at a time (storing), and so is everything else that asks it.
        using var storing = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ahead = new Queue<(DeviceFileEntry Entry, Task<FileRead> Read)>();
        try
        {
            foreach (var entry in listed)
            {
                if (!paths.Add(entry.SnapshotPath))
                {
                    throw new ActiveSyncProtocolException($"{_device} listed \"{DeviceText.Printable(entry.DevicePath)}\" twice");
                }

                Task<FileRead> read;
                if (entry.IsDirectory)
                {
                    read = Task.FromResult(new FileRead(new TreeEntry(entry.SnapshotPath, EntryKind.Directory, 0, entry.LastWriteUnixNanoseconds, NoMode, []), null));
                }
                else if (earlier.TryGetValue(entry.SnapshotPath, out var before) && DeviceChanges.IsUnchanged(entry, before.Size, before.MtimeUnixNs) && await HasAllAsync(writer, storing, before).ConfigureAwait(false))
                {
                    read = Task.FromResult(new FileRead(before, null));
                    unchanged++;
                    Interlocked.Add(ref _bytesDone, entry.Size);
                }
                else
                {
                    read = ReadFileAsync(pool, writer, codec, storing, entry, stop.Token);
                }

                ahead.Enqueue((entry, read));
                while (ahead.Count > 0 && (ahead.Peek().Read.IsCompleted || ahead.Count > pool.Capacity * AheadPerUse))
                {
                    await TakeAsync(ahead.Dequeue(), tree, problems, writer, storing).ConfigureAwait(false);
                }
            }

            while (ahead.Count > 0)
            {
                await TakeAsync(ahead.Dequeue(), tree, problems, writer, storing).ConfigureAwait(false);
            }
        }
        catch
        {
            // No read may go on using the writer (or a buffer) after the backup has failed.
            await stop.CancelAsync().ConfigureAwait(false);
            while (ahead.TryDequeue(out var left))
            {
                try
                {
                    await left.Read.ConfigureAwait(false);
                }
                catch (Exception e) when (e is CradleException or OperationCanceledException)
                {
                    // The first failure is the one the session reports.
                }
            }

            throw;
        }

        ActiveSyncHostLog.Listed(logger, _device.Value, listed.Count, folders.Folders.Count, unchanged);
        _live.SetPhase("committing");
        var outcome = await writer.CommitAsync(new NewSnapshotRequest(_device, _number, Link, started), tree, problems.Problems, OwnSnapshots.Candidate(host.Store, previous), cancellationToken).ConfigureAwait(false);
        if (outcome.Unchanged)
        {
            HostLog.Unchanged(logger, _device.Value, outcome.SnapshotId);
        }
        else
        {
            HostLog.Committed(logger, _device.Value, outcome.SnapshotId, tree.Files, tree.Bytes, writer.NewChunks, writer.StoredBytes);
        }

        if (problems.Problems.Count > 0)
        {
            var first = problems.Problems[0];
            HostLog.PartialSnapshot(logger, _device.Value, outcome.SnapshotId, problems.Problems.Count, problems.CarriedForward, $"{first.Path}: {first.Reason}");
        }

        using (var registry = OpenRegistry())
        {
            registry.RecordSeen(_device, Link, backedUp: true);
        }

        return outcome.Unchanged
            ? $"backed up: nothing changed since snapshot {outcome.SnapshotId} ({unchanged} files checked by their listing)"
            : $"backed up: snapshot {outcome.SnapshotId}, {tree.Files} files, {tree.Bytes} bytes{(problems.Problems.Count > 0 ? $", PARTIAL: {problems.Problems.Count} could not be read" : "")}";
    }

    /// <summary>Puts the oldest file or folder taken into the tree: as read, as it was (unchanged), or its earlier version with the problem.</summary>
    private async Task TakeAsync((DeviceFileEntry Entry, Task<FileRead> Read) next, TreeBuilder tree, BackupProblems problems, StoreWriter writer, SemaphoreSlim storing)
    {
        var (entry, read) = (next.Entry, await next.Read.ConfigureAwait(false));
        if (read.Problem is not null)
        {
            ActiveSyncHostLog.FileProblem(logger, _device.Value, entry.SnapshotPath, read.Problem);
            await storing.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await problems.AddAsync(new TreeEntry(entry.SnapshotPath, EntryKind.File, 0, entry.LastWriteUnixNanoseconds, NoMode, []), read.Problem, tree, p => p == entry.SnapshotPath, writer, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                storing.Release();
            }

            Interlocked.Add(ref _bytesDone, entry.Size);
        }
        else
        {
            tree.Add(read.Entry!);
        }

        if (!entry.IsDirectory)
        {
            _live.Progress(Interlocked.Increment(ref _filesDone), Interlocked.Read(ref _bytesDone));
        }
    }

    /// <summary>True when this device still owns every chunk of the earlier entry (asked under the writer's lock: reads may be storing).</summary>
    private static async Task<bool> HasAllAsync(StoreWriter writer, SemaphoreSlim storing, TreeEntry before)
    {
        await storing.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            return before.Chunks.All(id => writer.TryGetRawLength(id, out _));
        }
        finally
        {
            storing.Release();
        }
    }

    /// <summary>
    /// Reads one file on a session of the pool (several reads in flight), chunks it and stores the
    /// chunks this device does not own yet. A file the device cannot open or read is a problem, not a failure.
    /// </summary>
    private async Task<FileRead> ReadFileAsync(RapiSessionPool pool, StoreWriter writer, ChunkCodec codec, SemaphoreSlim storing, DeviceFileEntry entry, CancellationToken cancellationToken)
    {
        var large = entry.Size >= SmallFileSize;
        if (large)
        {
            await _largeReads.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            using var lease = await pool.RentAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return new FileRead(await ReadFileAsync(lease.Rapi, writer, codec, storing, entry, cancellationToken).ConfigureAwait(false), null);
            }
            catch (RapiCallException e) when (!lease.Rapi.IsBroken)
            {
                // The device could not open or read this file (in use, access denied): its earlier version stands in.
                return new FileRead(null, $"the device could not read it: error {e.Win32Error} ({Win32Errors.Describe(e.Win32Error)})");
            }
        }
        finally
        {
            if (large)
            {
                _largeReads.Release();
            }
        }
    }

    private async Task<TreeEntry> ReadFileAsync(RapiClient rapi, StoreWriter writer, ChunkCodec codec, SemaphoreSlim storing, DeviceFileEntry entry, CancellationToken cancellationToken)
    {
        var reader = await DeviceFileReader.OpenAsync(rapi, entry.DevicePath, entry.Size, options.ActiveSync, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            // A small file gets a buffer of its size; a large one a kept full-size chunker.
            Chunker chunker;
            if (entry.Size < SmallFileSize)
            {
                chunker = new Chunker(reader, expectedLength: entry.Size);
            }
            else if (_chunkers.TryTake(out var kept))
            {
                kept.Reset(reader);
                chunker = kept;
            }
            else
            {
                chunker = new Chunker(reader);
            }

            try
            {
                return await ChunkAsync(chunker, writer, codec, storing, entry, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Its buffer serves the next file (Reset), whether this one was read whole or not.
                if (chunker.HasFullBuffer)
                {
                    _chunkers.Add(chunker);
                }
            }
        }
    }

    private async Task<TreeEntry> ChunkAsync(Chunker chunker, StoreWriter writer, ChunkCodec codec, SemaphoreSlim storing, DeviceFileEntry entry, CancellationToken cancellationToken)
    {
        var chunks = new List<ChunkId>();
        long size = 0;
        while (await chunker.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var raw = chunker.Current;
            var id = ChunkId.Of(raw.Span);
            await storing.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!writer.TryGetRawLength(id, out _))
                {
                    var (compression, stored) = codec.Compress(raw);
                    await writer.AddAsync(id, compression, stored, raw, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                storing.Release();
            }

            chunks.Add(id);
            size += raw.Length;
            _live.Progress(Interlocked.Read(ref _filesDone), Interlocked.Add(ref _bytesDone, raw.Length));
        }

        // The size is what was read: a file that grew or shrank meanwhile is stored as read,
        // and its listing no longer matches, so the next backup reads it again.
        return new TreeEntry(entry.SnapshotPath, EntryKind.File, size, entry.LastWriteUnixNanoseconds, NoMode, [.. chunks]);
    }

    /// <summary>One file or folder as it goes into the tree, or why the device could not give it.</summary>
    private sealed record FileRead(TreeEntry? Entry, string? Problem);

    /// <summary>The previous snapshot's files by path (their sizes, times and chunks); empty for a first backup.</summary>
    private async Task<Dictionary<string, TreeEntry>> EarlierFilesAsync(SnapshotInfo? previous, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, TreeEntry>(StringComparer.Ordinal);
        if (previous is null)
        {
            return files;
        }

        using var reader = host.Store.OpenReader();
        foreach (var entry in await reader.LoadTreeAsync(previous, cancellationToken).ConfigureAwait(false))
        {
            if (entry.Kind == EntryKind.File)
            {
                files[entry.Path] = entry;
            }
        }

        return files;
    }
}
