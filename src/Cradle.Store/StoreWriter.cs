using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// One session's writes into the store. Chunks go into a pack; a full pack is sealed and
/// recorded at once, so chunks that reached the host survive a dropped link. The snapshot is
/// recorded last, in the same transaction as the final pack (<c>CommitAsync</c>).
/// A device's writer (one with an owner) sees only the chunks that device owns (it sent them
/// before, or they stand in its snapshots: <see cref="Catalog.GetOwnedRawLengths"/>) and those it
/// sends now; what it sends becomes its own with the next commit, even where the store already
/// held a copy from another device (then nothing is written twice).
/// </summary>
internal sealed class StoreWriter : IAsyncDisposable
{
    /// <summary>A pack is sealed once it holds this many bytes.</summary>
    public const long PackTargetSize = 16L * 1024 * 1024;

    /// <summary>Ownership rows waiting for a pack's commit are written on their own beyond this many (chunks the store already had fill no pack).</summary>
    private const int OwnersFlushAt = 16 * 1024;

    private readonly ChunkStore _store;
    private readonly Catalog _catalog;
    private readonly string? _owner;
    private readonly Dictionary<ChunkId, int> _written = [];

    /// <summary>Chunks the device sent in this session (verified by the caller), with their raw lengths: its own from now on.</summary>
    private readonly Dictionary<ChunkId, int> _received = [];

    /// <summary>Chunks received whose ownership row is not written yet.</summary>
    private readonly List<ChunkId> _unrecordedOwners = [];

    /// <summary>
    /// Chunks the catalog was asked about and had (for a device's writer: had and the device owns),
    /// with their raw lengths: a backup asks about each id twice (its query, then the entry naming
    /// it), and the second answer comes from here. Bounded; the store lock keeps prune from
    /// removing them meanwhile.
    /// </summary>
    private readonly Dictionary<ChunkId, int> _known = [];

    /// <summary>Most catalog answers one writer remembers (about 64 bytes each).</summary>
    private const int MaxKnown = 256 * 1024;
    private PackWriter? _pack;
    private bool _finished;

    private readonly StoreLease _lease;

    internal StoreWriter(ChunkStore store, Catalog catalog, StoreLease lease, string? owner = null)
    {
        _store = store;
        _catalog = catalog;
        _lease = lease;
        _owner = owner;
    }

    /// <summary>Chunks this writer stored (not counting those the store already had).</summary>
    public long NewChunks { get; private set; }

    /// <summary>Bytes of the packs this writer sealed (compressed chunks, with headers and footers).</summary>
    public long StoredBytes { get; private set; }

    /// <summary>Distinct chunks handed to <see cref="AddAsync(ChunkId, ChunkCompression, ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/> (whether or not the store had them).</summary>
    public long ChunksReceived { get; private set; }

    /// <summary>
    /// What those chunks would take stored alone: their bytes as received plus a record header
    /// each. Unlike <see cref="NewChunks"/> and <see cref="StoredBytes"/> it does not depend on
    /// what other devices stored, so it is what a device may be told.
    /// </summary>
    public long BytesReceived { get; private set; }

    /// <summary>True when the store has this chunk durably or this session has written it (whoever sent it).</summary>
    public bool Has(ChunkId id) => _written.ContainsKey(id) || (_owner is null ? TryGetRawLength(id, out _) : _catalog.HasChunk(id));

    /// <summary>
    /// The chunk's uncompressed length when this writer may name it: the store has it (durably or
    /// from this session) and, for a device's writer, the device owns it or sent it now.
    /// </summary>
    public bool TryGetRawLength(ChunkId id, out int rawLength)
    {
        if ((_owner is null ? _written.TryGetValue(id, out rawLength) : _received.TryGetValue(id, out rawLength)) || _known.TryGetValue(id, out rawLength))
        {
            return true;
        }

        if (!(_owner is null ? _catalog.TryGetRawLength(id, out rawLength) : _catalog.TryGetOwnedRawLength(_owner, id, out rawLength)))
        {
            return false;
        }

        if (_known.Count >= MaxKnown)
        {
            _known.Clear();
        }

        _known[id] = rawLength;
        return true;
    }

    /// <summary>
    /// Looks up a chunk query's ids at once: <paramref name="rawLengths"/>[i] is the raw length of
    /// <paramref name="ids"/>[i] when this writer may name it (see <see cref="TryGetRawLength"/>),
    /// else -1. The catalog is asked once, for the ids this writer has not seen yet.
    /// </summary>
    public void LookUp(IReadOnlyList<ChunkId> ids, Span<int> rawLengths)
    {
        var mine = _owner is null ? _written : _received;
        List<ChunkId>? unseen = null;
        for (var i = 0; i < ids.Count; i++)
        {
            if (mine.TryGetValue(ids[i], out var length) || _known.TryGetValue(ids[i], out length))
            {
                rawLengths[i] = length;
            }
            else
            {
                rawLengths[i] = -1;
                (unseen ??= []).Add(ids[i]);
            }
        }

        if (unseen is null)
        {
            return;
        }

        var found = _owner is null ? _catalog.GetRawLengths(unseen) : _catalog.GetOwnedRawLengths(_owner, unseen);
        if (found.Count == 0)
        {
            return;
        }

        if (_known.Count + found.Count > MaxKnown)
        {
            _known.Clear();
        }

        for (var i = 0; i < ids.Count; i++)
        {
            if (rawLengths[i] < 0 && found.TryGetValue(ids[i], out var length))
            {
                rawLengths[i] = length;
                _known[ids[i]] = length;
            }
        }
    }

    /// <summary>
    /// Stores a chunk unless the store has it already. The caller has verified the id against
    /// <paramref name="raw"/>; <paramref name="stored"/> is the same chunk as sent
    /// (<paramref name="compression"/>). A compressible chunk goes into the pack's compression
    /// group (compressed again with its neighbours: smaller), an incompressible one as it is.
    /// </summary>
    /// <remarks>For a device's writer the chunk becomes the device's own with the next commit, stored now or not.</remarks>
    public async ValueTask<bool> AddAsync(ChunkId id, ChunkCompression compression, ReadOnlyMemory<byte> stored, ReadOnlyMemory<byte> raw, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (_received.TryAdd(id, raw.Length))
        {
            ChunksReceived++;
            BytesReceived += stored.Length + PackFormat.RecordHeaderLength;
            if (_owner is not null)
            {
                _unrecordedOwners.Add(id);
            }
        }

        var added = await AddAsync(id, compression, stored, raw, mayGroup: true, cancellationToken).ConfigureAwait(false);
        if (_unrecordedOwners.Count >= OwnersFlushAt)
        {
            _catalog.RecordOwners(_owner!, _unrecordedOwners);
            _unrecordedOwners.Clear();
        }

        return added;
    }

    private async ValueTask<bool> AddAsync(ChunkId id, ChunkCompression compression, ReadOnlyMemory<byte> stored, ReadOnlyMemory<byte> raw, bool mayGroup, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (Has(id))
        {
            return false;
        }

        try
        {
            _pack ??= PackWriter.Create(_store.Packs);
            if (compression == ChunkCompression.None || !mayGroup || KeepAsSent(compression, stored.Span, raw.Length))
            {
                await _pack.AppendAsync(id, compression, stored, raw.Length, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _pack.AppendGroupedAsync(id, raw, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (StoreFullException.IsDiskFull(e))
        {
            throw await DiskFullAsync(e).ConfigureAwait(false);
        }

        _written.Add(id, raw.Length);
        NewChunks++;
        if (_pack.Length >= PackTargetSize)
        {
            await FlushPackAsync(snapshot: null, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Whether a compressed chunk is stored in the frame it came in rather than in a group: a
    /// chunk of <see cref="PackFormat.KeepAsSentFrom"/> bytes or more gains little from its
    /// neighbours' frame, and compressing it again was the host's largest cost in a first
    /// backup (docs/storage.md §6). The frame must be one plain zstd frame (nothing else rides
    /// along into the store) and save what the device's codec demands of it, so a device cannot
    /// make the store hold more than the chunk.
    /// </summary>
    private static bool KeepAsSent(ChunkCompression compression, ReadOnlySpan<byte> stored, int rawLength) =>
        PackFormat.StaysAlone(compression, rawLength)
        && ChunkCodec.SavesEnough(stored.Length, rawLength)
        && ChunkCodec.IsSingleFrame(stored);

    /// <summary>
    /// Commits a snapshot: stores its tree as chunks, seals the pack, then records pack and
    /// snapshot in one transaction. Every chunk the entries name must be in the store.
    /// </summary>
    public async ValueTask<long> CommitAsync(NewSnapshotRequest request, IReadOnlyList<TreeEntry> entries, CancellationToken cancellationToken)
    {
        await using var tree = SnapshotTree.OpenRead(entries);
        return await CommitAsync(request, tree, entries.Count(e => e.Kind == EntryKind.File), entries.Sum(e => e.Size), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits a snapshot whose entries were gathered in <paramref name="tree"/> (see the other overload).</summary>
    public async ValueTask<long> CommitAsync(NewSnapshotRequest request, TreeBuilder tree, CancellationToken cancellationToken)
    {
        await using var encoded = tree.OpenRead();
        return await CommitAsync(request, encoded, tree.Files, tree.Bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits a snapshot whose entries were gathered in <paramref name="tree"/>, with what the
    /// device could not read (<paramref name="problems"/>: a partial snapshot). When its files
    /// are exactly those of <paramref name="unchangedFrom"/> (the same tree, the same problems),
    /// no new snapshot is made: that one is marked verified now, and its id comes back with
    /// <see cref="CommitOutcome.Unchanged"/>. Chunks received are committed either way.
    /// </summary>
    public async ValueTask<CommitOutcome> CommitAsync(NewSnapshotRequest request, TreeBuilder tree, IReadOnlyList<SnapshotProblem> problems, UnchangedCandidate? unchangedFrom, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        await using var encoded = tree.OpenRead();
        var treeIds = await WriteTreeAsync(encoded, cancellationToken).ConfigureAwait(false);
        if (unchangedFrom is { } same && same.Snapshot.Tree.SequenceEqual(treeIds) && SameProblems(same.Problems, problems))
        {
            await FlushPackAsync(snapshot: null, cancellationToken).ConfigureAwait(false);
            if (_catalog.MarkVerified(same.Snapshot.Id, _store.Time.GetUtcNow().ToUnixTimeMilliseconds()))
            {
                Finish();
                return new CommitOutcome(same.Snapshot.Id, Unchanged: true);
            }

            // The snapshot went (prune) between the comparison and now: record this one after all.
        }

        var id = await CommitTreeAsync(request, treeIds, tree.Files, tree.Bytes, problems, cancellationToken).ConfigureAwait(false);
        return new CommitOutcome(id, Unchanged: false);
    }

    private static bool SameProblems(IReadOnlyList<SnapshotProblem> before, IReadOnlyList<SnapshotProblem> now) =>
        before.Count == now.Count && before.Zip(now).All(p => p.First.Path == p.Second.Path && p.First.Reason == p.Second.Reason);

    private async ValueTask<long> CommitAsync(NewSnapshotRequest request, Stream tree, long files, long bytes, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        var treeIds = await WriteTreeAsync(tree, cancellationToken).ConfigureAwait(false);
        return await CommitTreeAsync(request, treeIds, files, bytes, [], cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<long> CommitTreeAsync(NewSnapshotRequest request, List<ChunkId> treeIds, long files, long bytes, IReadOnlyList<SnapshotProblem> problems, CancellationToken cancellationToken)
    {
        var snapshot = new NewSnapshot(request.Device, request.Number, request.Link, request.StartedMs, files, bytes, treeIds, problems);
        var id = await FlushPackAsync(snapshot, cancellationToken).ConfigureAwait(false);
        Finish();
        return id!.Value;
    }

    private void Finish()
    {
        _finished = true;

        // The snapshot is in: the writer is done with the catalog. Its connection and lease go
        // back now, not when the session ends — a session's last bookkeeping (the registry's
        // "last backup") needs a connection, and 100 sessions each holding one while asking
        // for a second emptied a pool of 100 (PostgreSQL) and failed backups already committed.
        _catalog.Dispose();
        _lease.Dispose();
    }

    private async ValueTask<List<ChunkId>> WriteTreeAsync(Stream tree, CancellationToken cancellationToken)
    {
        using var codec = new ChunkCodec();
        var chunker = new Chunker(tree);
        var ids = new List<ChunkId>();
        while (await chunker.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            var raw = chunker.Current;
            var id = ChunkId.Of(raw.Span);
            ids.Add(id);
            if (!Has(id))
            {
                // Never in a group: a damaged group then costs the files in it, not the
                // snapshot's whole list of files.
                var (compression, data) = codec.Compress(raw);
                await AddAsync(id, compression, data, raw, mayGroup: false, cancellationToken).ConfigureAwait(false);
            }
        }

        return ids;
    }

    private async ValueTask<long?> FlushPackAsync(NewSnapshot? snapshot, CancellationToken cancellationToken)
    {
        try
        {
            return await SealAndCommitAsync(snapshot, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StoreFullException.IsDiskFull(e))
        {
            throw await DiskFullAsync(e).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the unsealed pack (freeing what it took) and says plainly that the disk is full.</summary>
    private async ValueTask<StoreFullException> DiskFullAsync(Exception e)
    {
        _finished = true;
        var pack = _pack;
        _pack = null;
        if (pack is not null)
        {
            await pack.AbandonAsync().ConfigureAwait(false);
        }

        return new StoreFullException(_store.Folder, e);
    }

    private async ValueTask<long?> SealAndCommitAsync(NewSnapshot? snapshot, CancellationToken cancellationToken)
    {
        SealedPack? sealedPack = null;
        if (_pack is { Count: > 0 })
        {
            await _pack.SealAsync(cancellationToken).ConfigureAwait(false);
            sealedPack = new SealedPack(_pack.Name, _pack.Length, _pack.Entries);
            StoredBytes += _pack.Length;
        }

        if (_pack is not null)
        {
            await _pack.DisposeAsync().ConfigureAwait(false);
            _pack = null;
        }

        var owners = _unrecordedOwners.Count > 0 ? new ChunkOwners(_owner!, [.. _unrecordedOwners]) : null;
        if (sealedPack is null && snapshot is null && owners is null)
        {
            return null;
        }

        var id = _catalog.Commit(sealedPack, snapshot, _store.Time.GetUtcNow().ToUnixTimeMilliseconds(), _lease.Id, owners);
        _unrecordedOwners.Clear();
        return id;
    }

    /// <summary>
    /// Ends a session that will not commit: the chunks already received are sealed and recorded
    /// so the next session need not send them again; no snapshot is made.
    /// </summary>
    public async ValueTask AbortAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        try
        {
            await FlushPackAsync(snapshot: null, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreFullException)
        {
            // No room to keep the partial data: the pack was deleted. The session's own error
            // (the one that made it abort) is the one to report.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_pack is not null)
        {
            await _pack.AbandonAsync().ConfigureAwait(false);
        }

        _catalog.Dispose();
        _lease.Dispose();
    }
}

/// <summary>Who a snapshot belongs to and when its session started.</summary>
internal sealed record NewSnapshotRequest(DeviceName Device, uint Number, string Link, long StartedMs);

/// <summary>The device's newest snapshot and its problems: a backup with the same files and problems repeats it.</summary>
internal sealed record UnchangedCandidate(SnapshotInfo Snapshot, IReadOnlyList<SnapshotProblem> Problems);

/// <summary>The snapshot a commit made, or, <c>Unchanged</c>, the earlier one whose files these are.</summary>
internal sealed record CommitOutcome(long SnapshotId, bool Unchanged);
