using System.Buffers;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Cradle.Store;
using Google.Protobuf;

namespace Cradle.Host;

internal sealed partial class HostSession
{
    /// <summary>Most chunk ids one query may carry.</summary>
    public const int MaxQueryIds = 4096;

    /// <summary>Most entries one snapshot may hold.</summary>
    public const int MaxEntriesPerSnapshot = SnapshotTree.MaxEntries;

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            switch (message.BodyCase)
            {
                case Envelope.BodyOneofCase.BackupBegin when _guest:
                    throw new SessionRefusedException("P3", $"a guest cannot back up to {host.Name}, and nothing is stored for it; partner with {host.Name} (a device holds at most two partnerships) to back up here");
                case Envelope.BodyOneofCase.BackupBegin:
                    await BackupAsync(message.BackupBegin, cancellationToken).ConfigureAwait(false);
                    break;
                case Envelope.BodyOneofCase.RestoreRequest:
                    await RestoreAsync(message.RestoreRequest, cancellationToken).ConfigureAwait(false);
                    break;
                case Envelope.BodyOneofCase.Goodbye:
                    return;
                default:
                    throw new ProtocolViolationException($"expected a backup, a restore or goodbye, got {message.BodyCase}");
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
                    AddEntries(writer, message.FileEntries, entries, paths);
                    _live.Progress(entries.Files, Math.Max(entries.Bytes, chunkBytes));
                    break;
                case Envelope.BodyOneofCase.BackupEnd:
                    _live.SetPhase("committing");
                    await CommitAsync(writer, message.BackupEnd, entries, requested, started, cancellationToken).ConfigureAwait(false);
                    return;
                case Envelope.BodyOneofCase.Goodbye:
                    throw new LinkClosedException($"the device left in the middle of a backup: {message.Goodbye.Reason}");
                default:
                    throw new ProtocolViolationException($"unexpected {message.BodyCase} during a backup");
            }
        }
    }

    /// <summary>Answers which chunks the host lacks; returns the bytes of those it has.</summary>
    private async Task<long> AnswerQueryAsync(StoreWriter writer, ChunkQuery query, HashSet<ChunkId> requested, CancellationToken cancellationToken)
    {
        if (query.Ids.Count > MaxQueryIds)
        {
            throw new ProtocolViolationException($"a chunk query of {query.Ids.Count} ids exceeds the limit of {MaxQueryIds}");
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
            throw new ProtocolViolationException($"this session would owe {requested.Count + asked.Count} chunks it was asked for and has not sent; at most {limits.MaxOwedPerSession} may be owed at once (a device sends what it was asked for before it asks about more)");
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
            throw new ProtocolViolationException($"chunk {id} was sent but not asked for");
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

    private static void AddEntries(StoreWriter writer, FileEntries batch, TreeBuilder entries, HashSet<UInt128> paths)
    {
        if (entries.Count + batch.Entries.Count > MaxEntriesPerSnapshot)
        {
            throw new ProtocolViolationException($"the snapshot would exceed {MaxEntriesPerSnapshot} entries");
        }

        foreach (var e in batch.Entries)
        {
            var path = SnapshotPath.Validate(e.Path);
            if (!paths.Add(PathKey(path)))
            {
                throw new ProtocolViolationException($"\"{path}\" appears twice in one snapshot");
            }

            var kind = e.Kind switch
            {
                Protocol.Messages.EntryKind.File => Store.EntryKind.File,
                Protocol.Messages.EntryKind.Directory => Store.EntryKind.Directory,
                _ => throw new ProtocolViolationException($"\"{path}\" has unknown kind {(int)e.Kind}"),
            };
            var chunks = new ChunkId[e.ChunkIds.Count];
            long total = 0;
            for (var i = 0; i < chunks.Length; i++)
            {
                chunks[i] = ChunkId.Read(e.ChunkIds[i].Span);
                if (!writer.TryGetRawLength(chunks[i], out var length))
                {
                    throw new ProtocolViolationException($"\"{path}\" names chunk {chunks[i]}, which this device never sent (a device names only chunks it sent or that stand in its own snapshots)");
                }

                total += length;
            }

            if (kind == Store.EntryKind.Directory && (chunks.Length > 0 || e.Size != 0))
            {
                throw new ProtocolViolationException($"folder \"{path}\" has content or a size");
            }

            if (kind == Store.EntryKind.File && (ulong)total != e.Size)
            {
                throw new ProtocolViolationException($"\"{path}\" claims {e.Size} bytes but its chunks hold {total}");
            }

            entries.Add(new TreeEntry(path, kind, (long)e.Size, e.MtimeUnixNs, e.Mode, chunks));
        }
    }

    /// <summary>The first 128 bits of the path's SHA-256: two different paths share one by chance with odds of about 2^-100 in a snapshot of 10 million.</summary>
    private static UInt128 PathKey(string path)
    {
        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(path), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private async Task CommitAsync(StoreWriter writer, BackupEnd end, TreeBuilder entries, HashSet<ChunkId> requested, long started, CancellationToken cancellationToken)
    {
        if (requested.Count > 0)
        {
            throw new ProtocolViolationException($"{requested.Count} chunks were announced as missing and never sent (first: {requested.First()})");
        }

        var files = entries.Files;
        var bytes = entries.Bytes;
        if ((ulong)files != end.Files || (ulong)bytes != end.Bytes)
        {
            throw new ProtocolViolationException($"the device counted {end.Files} files / {end.Bytes} bytes, the host received {files} / {bytes}");
        }

        var id = await writer.CommitAsync(new NewSnapshotRequest(_device, _number, link, started), entries, cancellationToken).ConfigureAwait(false);
        HostLog.Committed(logger, _device.Value, id, files, bytes, writer.NewChunks, writer.StoredBytes);
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
                Files = (ulong)files,
                Bytes = (ulong)bytes,
                // What this device sent, not what the store newly wrote: the difference would
                // tell the device which of its chunks another device had stored already.
                NewChunks = (ulong)writer.ChunksReceived,
                StoredBytes = (ulong)writer.BytesReceived,
            },
        }, cancellationToken).ConfigureAwait(false);
    }
}
