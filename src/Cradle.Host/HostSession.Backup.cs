using System.Buffers;
using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Cradle.Store;
using Google.Protobuf;

namespace Cradle.Host;

internal sealed partial class HostSession
{
    /// <summary>Most chunk ids one query may carry.</summary>
    public const int MaxQueryIds = WireLimits.MaxQueryIds;

    /// <summary>Most entries one snapshot may hold.</summary>
    public const int MaxEntriesPerSnapshot = WireLimits.MaxEntriesPerSnapshot;

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            switch (message.BodyCase)
            {
                case Envelope.BodyOneofCase.BackupBegin when _guest:
                    throw new SessionRefusedException(RefusalClass.P3, $"a guest cannot back up to {host.Name}, and nothing is stored for it; partner with {host.Name} (a device holds at most two partnerships) to back up here");
                case Envelope.BodyOneofCase.BackupBegin:
                    await BackupAsync(message.BackupBegin, cancellationToken).ConfigureAwait(false);
                    break;
                case Envelope.BodyOneofCase.RestoreRequest:
                    await RestoreAsync(message.RestoreRequest, cancellationToken).ConfigureAwait(false);
                    break;
                case Envelope.BodyOneofCase.Goodbye:
                    return;
                default:
                    throw new CradleProtocolException($"expected a backup, a restore or goodbye, got {message.BodyCase}");
            }
        }
    }

    private async Task BackupAsync(BackupBegin begin, CancellationToken cancellationToken)
    {
        var started = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _live.StartTransfer("backing-up", (long)Math.Min(begin.Files, long.MaxValue), (long)Math.Min(begin.Bytes, long.MaxValue));
        // The device's own writer: it answers and accepts only chunks this device owns or sends.
        var writer = await host.Store.BeginWriteAsync(_device, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            try
            {
                await ReceiveBackupAsync(writer, started, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Keep what arrived durably so the next session need not send it again; the
                // snapshot itself is never recorded.
                await writer.AbortAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        _live.SetPhase("connected");
    }

    private async Task ReceiveBackupAsync(StoreWriter writer, long started, CancellationToken cancellationToken)
    {
        // Owed: asked for and not received yet. Bounded per session and, with every other
        // session's, per host; what is still owed when the backup ends goes back to the host's budget.
        var requested = new HashSet<ChunkId>();
        try
        {
            await ReceiveBackupAsync(writer, requested, started, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            host.Owed.Give(requested.Count);
        }
    }

    private async Task ReceiveBackupAsync(StoreWriter writer, HashSet<ChunkId> requested, long started, CancellationToken cancellationToken)
    {
        // The entries wait in a temporary file, and only a 16-byte key of each path stays in
        // memory (for the duplicate check): a backup of 100,000 files holds a few MB, not its list.
        using var entries = new TreeBuilder(host.Store.TempFolder);
        var paths = new HashSet<UInt128>();
        var received = new ReceivedEntries(entries, paths, new BackupProblems(host.Store, NewestOwnSnapshot()));
        // Progress for the dashboard: the bytes of the chunks the device has gone through (those
        // the host had, counted when queried, and those sent), or of the files listed so far when
        // that is more (files the device knew unchanged). Both only grow.
        long chunkBytes = 0;
        while (true)
        {
            var message = await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            switch (message.BodyCase)
            {
                case Envelope.BodyOneofCase.ChunkQuery:
                    chunkBytes += await AnswerQueryAsync(writer, message.ChunkQuery, requested, cancellationToken).ConfigureAwait(false);
                    _live.Progress(entries.Files, Math.Max(entries.Bytes, chunkBytes));
                    break;
                case Envelope.BodyOneofCase.ChunkData:
                    await StoreChunkAsync(writer, message.ChunkData, requested, cancellationToken).ConfigureAwait(false);
                    chunkBytes += message.ChunkData.RawLength;
                    _live.Progress(entries.Files, Math.Max(entries.Bytes, chunkBytes));
                    break;
                case Envelope.BodyOneofCase.FileEntries:
                    await AddEntriesAsync(writer, message.FileEntries, received, cancellationToken).ConfigureAwait(false);
                    _live.Progress(entries.Files, Math.Max(entries.Bytes, chunkBytes));
                    break;
                case Envelope.BodyOneofCase.BackupEnd:
                    _live.SetPhase("committing");
                    await CommitAsync(writer, message.BackupEnd, received, requested, started, cancellationToken).ConfigureAwait(false);
                    return;
                case Envelope.BodyOneofCase.Goodbye:
                    throw new LinkClosedException($"the device left in the middle of a backup: {message.Goodbye.Reason}");
                default:
                    throw new CradleProtocolException($"unexpected {message.BodyCase} during a backup");
            }
        }
    }

    /// <summary>Answers which chunks the host lacks; returns the bytes of those it has.</summary>
    private async Task<long> AnswerQueryAsync(StoreWriter writer, ChunkQuery query, HashSet<ChunkId> requested, CancellationToken cancellationToken)
    {
        if (query.Ids.Count > MaxQueryIds)
        {
            throw new CradleProtocolException($"a chunk query of {query.Ids.Count} ids exceeds the limit of {MaxQueryIds}");
        }

        // Lookups are paced: a session, and all of them together, at most at their rate (a
        // device over it waits for its answer; SessionLimits).
        await _queryRate.TakeAsync(query.Ids.Count, cancellationToken).ConfigureAwait(false);
        await host.Queries.TakeAsync(query.Ids.Count, cancellationToken).ConfigureAwait(false);

        // The device queries ahead of its data: a chunk asked for in an earlier query is still
        // on its way (or owed: the device sends it with its next copy), so it is not asked for
        // again; within one query, only an id's first occurrence is.
        var answer = new ChunkAnswer { QueryId = query.QueryId };
        var ids = new ChunkId[query.Ids.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = ChunkId.Read(query.Ids[i].Span);
        }

        var lengths = ArrayPool<int>.Shared.Rent(ids.Length);
        var asked = new HashSet<ChunkId>();
        long had = 0;
        try
        {
            writer.LookUp(ids, lengths.AsSpan(0, ids.Length));
            for (var i = 0; i < ids.Length; i++)
            {
                if (lengths[i] >= 0)
                {
                    had += lengths[i];
                }
                else if (!requested.Contains(ids[i]) && asked.Add(ids[i]))
                {
                    answer.Missing.Add((uint)i);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(lengths);
        }

        var limits = options.Limits;
        if (requested.Count + asked.Count > limits.MaxOwedPerSession)
        {
            throw new CradleProtocolException($"this session would owe {requested.Count + asked.Count} chunks it was asked for and has not sent; at most {limits.MaxOwedPerSession} may be owed at once (a device sends what it was asked for before it asks about more)");
        }

        if (!host.Owed.TryTake(asked.Count))
        {
            throw new CradleException($"the host is owed {host.Owed.Owed} chunks by its sessions, its most ({limits.MaxOwedPerHost}); try again when they have sent them", isTransient: true);
        }

        requested.UnionWith(asked);

        HostLog.ChunkQuery(logger, Remote, query.QueryId, query.Ids.Count, answer.Missing.Count);
        await _channel!.SendAsync(new Envelope { ChunkAnswer = answer }, cancellationToken).ConfigureAwait(false);
        return had;
    }

    private async Task StoreChunkAsync(StoreWriter writer, ChunkData chunk, HashSet<ChunkId> requested, CancellationToken cancellationToken)
    {
        var id = ChunkId.Read(chunk.Id.Span);
        if (!requested.Remove(id))
        {
            throw new CradleProtocolException($"chunk {id} was sent but not asked for");
        }

        host.Owed.Give(1);

        // Decompressed and verified with a shared zstd context (given back before the await) into
        // a pooled buffer of the chunk's size (given back once the pack has its copy): what a
        // session holds between messages does not grow with the largest chunk it might receive.
        // ChunkMessage.Open refuses a claimed length outside 1..AbsoluteMaxSize; the clamp only
        // keeps the rental in bounds until it does.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(chunk.RawLength, 1u, (uint)ChunkerOptions.AbsoluteMaxSize));
        try
        {
            var (compression, raw) = Check(chunk, id, buffer);
            await writer.AddAsync(id, compression, chunk.Data.Memory, raw, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private (ChunkCompression Compression, Memory<byte> Raw) Check(ChunkData chunk, ChunkId id, byte[] buffer)
    {
        var codec = host.Codecs.Rent();
        try
        {
            return ChunkMessage.Open(codec, chunk, id, buffer);
        }
        finally
        {
            host.Codecs.Return(codec);
        }
    }

    private async Task AddEntriesAsync(StoreWriter writer, FileEntries batch, ReceivedEntries received, CancellationToken cancellationToken)
    {
        var entries = received.Tree;
        if (entries.Count + batch.Entries.Count > MaxEntriesPerSnapshot)
        {
            throw new CradleProtocolException($"the snapshot would exceed {MaxEntriesPerSnapshot} entries");
        }

        foreach (var e in batch.Entries)
        {
            var path = SnapshotPath.Validate(e.Path);
            if (!received.Paths.Add(PathKey(path)))
            {
                throw new CradleProtocolException($"\"{path}\" appears twice in one snapshot");
            }

            var kind = e.Kind switch
            {
                Protocol.Messages.EntryKind.File => Content.EntryKind.File,
                Protocol.Messages.EntryKind.Directory => Content.EntryKind.Directory,
                _ => throw new CradleProtocolException($"\"{path}\" has unknown kind {(int)e.Kind}"),
            };
            if (e.Problem.Length > 0)
            {
                await AddProblemAsync(writer, received, new TreeEntry(path, kind, 0, e.MtimeUnixNs, e.Mode, []), e, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var chunks = new ChunkId[e.ChunkIds.Count];
            long total = 0;
            for (var i = 0; i < chunks.Length; i++)
            {
                chunks[i] = ChunkId.Read(e.ChunkIds[i].Span);
                if (!writer.TryGetRawLength(chunks[i], out var length))
                {
                    throw new CradleProtocolException($"\"{path}\" names chunk {chunks[i]}, which this device never sent (a device names only chunks it sent or that stand in its own snapshots)");
                }

                total += length;
            }

            if (kind == Content.EntryKind.Directory && (chunks.Length > 0 || e.Size != 0))
            {
                throw new CradleProtocolException($"folder \"{path}\" has content or a size");
            }

            if (kind == Content.EntryKind.File && (ulong)total != e.Size)
            {
                throw new CradleProtocolException($"\"{path}\" claims {e.Size} bytes but its chunks hold {total}");
            }

            entries.Add(new TreeEntry(path, kind, (long)e.Size, e.MtimeUnixNs, e.Mode, chunks) { LinkTo = LinkTarget(path, kind, e.LinkTo) });
            if (kind == Content.EntryKind.File)
            {
                received.SentFiles++;
                received.SentBytes += (long)e.Size;
            }
        }
    }

    /// <summary>
    /// The path a hard-linked file names as its other name, checked like any path. Whether that
    /// entry exists and is the same file is not the host's to trust: a restore makes the link only
    /// when both entries are in the same run with the same chunks, and writes the content otherwise.
    /// </summary>
    private static string? LinkTarget(string path, Content.EntryKind kind, string linkTo)
    {
        if (linkTo.Length == 0)
        {
            return null;
        }

        if (kind != Content.EntryKind.File)
        {
            throw new CradleProtocolException($"folder \"{path}\" is marked a hard link");
        }

        var target = SnapshotPath.Validate(linkTo);
        return target == path ? throw new CradleProtocolException($"\"{path}\" is marked a hard link to itself") : target;
    }

    /// <summary>An entry the device could not read (protocol v3): its earlier version stands in for it.</summary>
    private async Task AddProblemAsync(StoreWriter writer, ReceivedEntries received, TreeEntry entry, Protocol.Messages.FileEntry sent, CancellationToken cancellationToken)
    {
        if (_version < ProtocolVersion.Problems)
        {
            throw new CradleProtocolException($"\"{entry.Path}\" is marked unreadable, which protocol version {_version} has no word for");
        }

        if (sent.ChunkIds.Count > 0 || sent.Size != 0)
        {
            throw new CradleProtocolException($"\"{entry.Path}\" is marked unreadable but has content or a size");
        }

        await received.Problems.AddAsync(entry, sent.Problem, received.Tree, path => entry.Path == path || received.Paths.Add(PathKey(path)), writer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The first 128 bits of the path's SHA-256: two different paths share one by chance with odds of about 2^-100 in a snapshot of 10 million.</summary>
    private static UInt128 PathKey(string path)
    {
        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(path), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private async Task CommitAsync(StoreWriter writer, BackupEnd end, ReceivedEntries received, HashSet<ChunkId> requested, long started, CancellationToken cancellationToken)
    {
        if (requested.Count > 0)
        {
            throw new CradleProtocolException($"{requested.Count} chunks were announced as missing and never sent (first: {requested.First()})");
        }

        var problems = received.Problems;
        if ((ulong)received.SentFiles != end.Files || (ulong)received.SentBytes != end.Bytes)
        {
            throw new CradleProtocolException($"the device counted {end.Files} files / {end.Bytes} bytes, the host received {received.SentFiles} / {received.SentBytes}");
        }

        if (end.Problems != (ulong)problems.Received)
        {
            throw new CradleProtocolException($"the device counted {end.Problems} entries it could not read, the host received {problems.Received}");
        }

        if (end.Unnamed.Count > BackupProblems.MaxUnnamed)
        {
            throw new CradleProtocolException($"the device sent {end.Unnamed.Count} notes of things it could not name; at most {BackupProblems.MaxUnnamed}");
        }

        foreach (var note in end.Unnamed)
        {
            problems.AddUnnamed(note);
        }

        var files = received.Tree.Files;
        var bytes = received.Tree.Bytes;
        var candidate = OwnSnapshots.Candidate(host.Store, problems.Previous);
        var outcome = await writer.CommitAsync(new NewSnapshotRequest(_device, _number, link, started), received.Tree, problems.Problems, candidate, cancellationToken).ConfigureAwait(false);
        var id = outcome.SnapshotId;
        var snapshot = outcome.Unchanged ? problems.Previous! : ReadSnapshot(id);
        if (outcome.Unchanged)
        {
            HostLog.Unchanged(logger, _device.Value, id);
        }
        else
        {
            HostLog.Committed(logger, _device.Value, id, files, bytes, writer.NewChunks, writer.StoredBytes);
        }

        if (snapshot?.Partial == true)
        {
            var first = problems.Problems.Count > 0 ? problems.Problems[0] : null;
            HostLog.PartialSnapshot(logger, _device.Value, id, snapshot.Problems, problems.CarriedForward, first is null ? "" : $"{(first.Path.Length > 0 ? first.Path + ": " : "")}{first.Reason}");
        }

        if (snapshot is { Empty: true } or { Suspect: true })
        {
            HostLog.FlaggedSnapshot(logger, _device.Value, id, snapshot.Files, snapshot.PreviousFiles ?? 0);
        }

        try
        {
            using var registry = PartnershipRegistry.Open(host.Store.Database, options.Time);
            registry.RecordSeen(_device, link, backedUp: true);
        }
        catch (Exception e) when (e is CatalogUnavailableException or System.Data.Common.DbException)
        {
            // The snapshot is committed: the device must hear so, or it backs up again and the
            // store holds the same backup twice. Only the "last backup" time is behind.
            HostLog.LastBackupNotRecorded(logger, _device.Value, id, e.Message);
        }

        await _channel!.SendAsync(new Envelope
        {
            BackupCommitted = new BackupCommitted
            {
                SnapshotId = id,
                Files = (ulong)(snapshot?.Files ?? files),
                Bytes = (ulong)(snapshot?.Bytes ?? bytes),
                // What this device sent, not what the store newly wrote: the difference would
                // tell the device which of its chunks another device had stored already.
                NewChunks = (ulong)writer.ChunksReceived,
                StoredBytes = (ulong)writer.BytesReceived,
                Partial = snapshot?.Partial ?? problems.Problems.Count > 0,
                Problems = (ulong)(snapshot?.Problems ?? problems.Problems.Count),
                CarriedForward = (ulong)problems.CarriedForward,
                Unchanged = outcome.Unchanged,
                Suspect = snapshot?.Suspect ?? false,
                PreviousFiles = (ulong)(snapshot?.PreviousFiles ?? 0),
            },
        }, cancellationToken).ConfigureAwait(false);
    }

    private SnapshotInfo? NewestOwnSnapshot() => OwnSnapshots.Newest(host.Store, options.Time, _device);

    private SnapshotInfo? ReadSnapshot(long id)
    {
        using var catalog = host.Store.OpenCatalog();
        return catalog.GetSnapshot(id);
    }

    /// <summary>What a backup has received so far: the tree, its paths, what could not be read, and the device's own counts.</summary>
    private sealed class ReceivedEntries(TreeBuilder tree, HashSet<UInt128> paths, BackupProblems problems)
    {
        public TreeBuilder Tree { get; } = tree;

        public HashSet<UInt128> Paths { get; } = paths;

        public BackupProblems Problems { get; } = problems;

        /// <summary>File entries the device sent itself (not carried forward), and their sizes: what its BackupEnd counts.</summary>
        public long SentFiles { get; set; }

        public long SentBytes { get; set; }
    }
}
