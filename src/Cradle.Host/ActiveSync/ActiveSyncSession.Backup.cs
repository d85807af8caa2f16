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

    private async Task<string> BackupAsync(RapiClient rapi, CancellationToken cancellationToken)
    {
        var started = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _live.SetPhase("listing");
        var folders = await BackupFolderDiscovery.DiscoverAsync(rapi, options.ActiveSyncFolders, cancellationToken).ConfigureAwait(false);
        var walker = new DeviceWalker(rapi, options.ActiveSync);
        var listed = new List<DeviceFileEntry>();
        foreach (var folder in folders.Folders)
        {
            await foreach (var entry in walker.WalkAsync(folder, cancellationToken).ConfigureAwait(false))
            {
                if (listed.Count >= SnapshotTree.MaxEntries)
                {
                    throw new ActiveSyncProtocolException($"{_device} lists more than {SnapshotTree.MaxEntries} files and folders, more than one snapshot holds");
                }

                listed.Add(entry);
            }
        }

        var previous = OwnSnapshots.Newest(host.Store, options.Time, _device);
        var earlier = EarlierFiles(previous);
        var files = listed.Where(e => !e.IsDirectory).ToList();
        _live.StartTransfer("backing-up", files.Count, files.Sum(e => e.Size));
        var writer = await host.Store.BeginWriteAsync(_device, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            try
            {
                return await StoreAsync(rapi, writer, folders, listed, earlier, previous, started, cancellationToken).ConfigureAwait(false);
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

    private async Task<string> StoreAsync(RapiClient rapi, StoreWriter writer, DeviceFolders folders, List<DeviceFileEntry> listed, Dictionary<string, TreeEntry> earlier,
        SnapshotInfo? previous, long started, CancellationToken cancellationToken)
    {
        using var tree = new TreeBuilder(host.Store.TempFolder);
        using var codec = new ChunkCodec();
        var problems = new BackupProblems(host.Store, previous);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        long unchanged = 0, filesDone = 0, bytesDone = 0;
        foreach (var missing in folders.Missing)
        {
            // A folder the operator named that the device does not have: its earlier files stand in (a partial snapshot).
            var path = CePath.ToSnapshotPath(missing);
            problems.Add(new TreeEntry(path, EntryKind.Directory, 0, 0, NoMode, []), "the folder is not on the device", tree, paths.Add, writer);
        }

        foreach (var entry in listed)
        {
            if (!paths.Add(entry.SnapshotPath))
            {
                throw new ActiveSyncProtocolException($"{_device} listed \"{DeviceText.Printable(entry.DevicePath)}\" twice");
            }

            if (entry.IsDirectory)
            {
                tree.Add(new TreeEntry(entry.SnapshotPath, EntryKind.Directory, 0, entry.LastWriteUnixNanoseconds, NoMode, []));
                continue;
            }

            if (earlier.TryGetValue(entry.SnapshotPath, out var before) && DeviceChanges.IsUnchanged(entry, before.Size, before.MtimeUnixNs) && before.Chunks.All(id => writer.TryGetRawLength(id, out _)))
            {
                tree.Add(before);
                unchanged++;
            }
            else
            {
                try
                {
                    tree.Add(await ReadFileAsync(rapi, writer, codec, entry, bytesDone, filesDone, cancellationToken).ConfigureAwait(false));
                }
                catch (RapiCallException e) when (!rapi.IsBroken)
                {
                    // The device could not open or read this file (in use, access denied): its earlier version stands in.
                    var reason = $"the device could not read it: error {e.Win32Error} ({Win32Errors.Describe(e.Win32Error)})";
                    ActiveSyncHostLog.FileProblem(logger, _device.Value, entry.SnapshotPath, reason);
                    problems.Add(new TreeEntry(entry.SnapshotPath, EntryKind.File, 0, entry.LastWriteUnixNanoseconds, NoMode, []), reason, tree, p => p == entry.SnapshotPath, writer);
                }
            }

            filesDone++;
            bytesDone += entry.Size;
            _live.Progress(filesDone, bytesDone);
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

    /// <summary>Reads one file over RAPI (several reads in flight), chunks it and stores the chunks this device does not own yet.</summary>
    private async Task<TreeEntry> ReadFileAsync(RapiClient rapi, StoreWriter writer, ChunkCodec codec, DeviceFileEntry entry, long bytesBefore, long filesDone, CancellationToken cancellationToken)
    {
        var reader = await DeviceFileReader.OpenAsync(rapi, entry.DevicePath, entry.Size, options.ActiveSync, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            var chunker = new Chunker(reader);
            var chunks = new List<ChunkId>();
            long size = 0;
            while (await chunker.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                var raw = chunker.Current;
                var id = ChunkId.Of(raw.Span);
                if (!writer.TryGetRawLength(id, out _))
                {
                    var (compression, stored) = codec.Compress(raw);
                    await writer.AddAsync(id, compression, stored, raw, cancellationToken).ConfigureAwait(false);
                }

                chunks.Add(id);
                size += raw.Length;
                _live.Progress(filesDone, bytesBefore + size);
            }

            // The size is what was read: a file that grew or shrank meanwhile is stored as read,
            // and its listing no longer matches, so the next backup reads it again.
            return new TreeEntry(entry.SnapshotPath, EntryKind.File, size, entry.LastWriteUnixNanoseconds, NoMode, [.. chunks]);
        }
    }

    /// <summary>The previous snapshot's files by path (their sizes, times and chunks); empty for a first backup.</summary>
    private Dictionary<string, TreeEntry> EarlierFiles(SnapshotInfo? previous)
    {
        var files = new Dictionary<string, TreeEntry>(StringComparer.Ordinal);
        if (previous is null)
        {
            return files;
        }

        using var reader = host.Store.OpenReader();
        foreach (var entry in reader.LoadTree(previous))
        {
            if (entry.Kind == EntryKind.File)
            {
                files[entry.Path] = entry;
            }
        }

        return files;
    }
}
