using System.Buffers;
using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Cradle.Store;
using Google.Protobuf;

namespace Cradle.Host;

internal sealed partial class HostSession
{
    /// <summary>Entries per <see cref="FileEntries"/> message of a restore.</summary>
    private const int RestoreEntriesPerMessage = WireLimits.MaxEntriesPerMessage;

    /// <summary>
    /// Serves a restore onto the device: consent first (the partnership that made the backups,
    /// or the operator's one-time grant), then the snapshot's entries, then exactly the chunks
    /// the device asks for — and only chunks of that snapshot, so a restore opens no other door
    /// into the store.
    /// </summary>
    private async Task RestoreAsync(RestoreRequest request, CancellationToken cancellationToken)
    {
        var source = _device;
        if (request.SourceDevice.Length > 0 && !DeviceName.TryParse(request.SourceDevice, out source, out var problem))
        {
            throw new CradleProtocolException($"the restore names a device that cannot exist: {problem}");
        }

        using var lease = host.Store.Lease("restore");
        using var reader = host.Store.OpenReader();
        var (snapshot, grounds) = Authorize(reader.Catalog, source, request.SnapshotId);
        var entries = await reader.LoadTreeAsync(snapshot, cancellationToken).ConfigureAwait(false);
        var allowed = new HashSet<ChunkId>();
        foreach (var e in entries)
        {
            allowed.UnionWith(e.Chunks);
        }

        HostLog.RestoreStarted(logger, Remote, snapshot.Id, snapshot.Device, _device.Value, grounds, snapshot.Files, snapshot.Bytes);
        _live.StartTransfer("restoring", snapshot.Files, snapshot.Bytes);
        await _channel!.SendAsync(new Envelope
        {
            RestoreOffer = new RestoreOffer
            {
                SnapshotId = snapshot.Id,
                SourceDevice = snapshot.Device,
                TimeUnixMs = snapshot.Time.ToUnixTimeMilliseconds(),
                Entries = (ulong)entries.Count,
                Files = (ulong)snapshot.Files,
                Bytes = (ulong)snapshot.Bytes,
                Grounds = grounds,
            },
        }, cancellationToken).ConfigureAwait(false);
        foreach (var batch in entries.Chunk(RestoreEntriesPerMessage))
        {
            var message = new FileEntries();
            foreach (var e in batch)
            {
                var entry = new FileEntry
                {
                    Path = e.Path,
                    Kind = e.Kind == Content.EntryKind.Directory ? Protocol.Messages.EntryKind.Directory : Protocol.Messages.EntryKind.File,
                    Size = (ulong)e.Size,
                    MtimeUnixNs = e.MtimeUnixNs,
                    Mode = e.Mode,
                    LinkTo = e.LinkTo ?? "",
                };
                foreach (var id in e.Chunks)
                {
                    entry.ChunkIds.Add(ByteString.CopyFrom(id.ToArray()));
                }

                message.Entries.Add(entry);
            }

            await _channel.SendAsync(new Envelope { FileEntries = message }, cancellationToken).ConfigureAwait(false);
        }

        await SendChunksAsync(reader, allowed, cancellationToken).ConfigureAwait(false);
        _live.SetPhase("connected");
    }

    /// <summary>The snapshot to restore and on what grounds; a refusal when this device may not have it.</summary>
    private (SnapshotInfo Snapshot, string Grounds) Authorize(Catalog catalog, DeviceName source, long snapshotId)
    {
        using var registry = PartnershipRegistry.Open(host.Store.Database, options.Time);
        var mine = catalog.ListSnapshots(source.Key);
        if (!_guest && source.Equals(_device))
        {
            // The partnership that made the backups: its own record's snapshots, from its creation
            // on (a reclaim keeps the creation time). Snapshots of an earlier holder of the name,
            // kept after a forget, are not this partnership's.
            var record = registry.Find(_device);
            var own = record is null ? [] : mine.Where(s => s.Time >= record.Created).ToList();
            var found = snapshotId == 0 ? own.LastOrDefault() : own.FirstOrDefault(s => s.Id == snapshotId);
            if (found is not null)
            {
                return (found, "partnership");
            }
        }

        var consent = $"ask the operator of {host.Name} to allow it: cradle host allow-restore {source} --to {_device} [--expires MINUTES] (one-time, expiring)";
        if (!registry.HasGrant(source, _device))
        {
            throw new SessionRefusedException(RefusalClass.Consent, (_guest ? $"{_device} is a guest on {host.Name}" : $"the partnership of {_device} with {host.Name} did not make {(snapshotId == 0 ? "a backup" : $"snapshot {snapshotId}")} of {source}")
                + $"; a restore of {source}'s files needs the operator's consent, and there is none (or it expired, or was used): {consent}");
        }

        var snapshot = snapshotId == 0 ? mine.LastOrDefault() : mine.FirstOrDefault(s => s.Id == snapshotId);
        if (snapshot is null)
        {
            throw new SessionRefusedException(RefusalClass.Restore, snapshotId == 0
                ? $"host {host.Name} keeps no snapshot of {source}"
                : $"host {host.Name} has no snapshot {snapshotId} of {source} (cradle host snapshots {source} lists them)");
        }

        if (!registry.TryUseGrant(source, _device))
        {
            throw new SessionRefusedException(RefusalClass.Consent, $"the operator's consent for {_device} to restore {source} was used or expired a moment ago: {consent}");
        }

        return (snapshot, "allowed by the operator");
    }

    /// <summary>
    /// zstd level for a group member sent on its own over a network link: level 1 compresses the
    /// restore's pages about 1.4× faster than the store's 3 (docs/BENCHMARKS.md, issue 23), and
    /// on a network link the host's compression, not the bytes, was the restore's longer side.
    /// A serial line keeps the store's level: there the bytes are the cost.
    /// </summary>
    internal const int NetworkSendLevel = 1;

    private async Task SendChunksAsync(SnapshotReader reader, HashSet<ChunkId> allowed, CancellationToken cancellationToken)
    {
        // The chunks of the last three requests served, the one being sent included: the device
        // checks chunks in order and asks for the next batch only once it has taken all but one
        // batch, so a chunk it refused is among these (ChunkMessage.Open; DeviceSession's
        // ChunkFetcher). The device may leave while a batch is still going out: the link then
        // drops under a send as well as under a receive.
        var served = new Queue<List<ChunkLocation>>();
        try
        {
            await ServeChunksAsync(reader, allowed, served, cancellationToken).ConfigureAwait(false);
        }
        catch (LinkClosedException e)
        {
            await NameDamageAsync(reader, served, e.Message, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    private async Task ServeChunksAsync(SnapshotReader reader, HashSet<ChunkId> allowed, Queue<List<ChunkLocation>> served, CancellationToken cancellationToken)
    {
        using var sendCodec = new ChunkCodec(link == "serial" ? ChunkCodec.DefaultLevel : NetworkSendLevel);
        long sent = 0;
        long rawSent = 0;
        while (true)
        {
            var message = await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            switch (message.BodyCase)
            {
                case Envelope.BodyOneofCase.ChunkRequest:
                    var ids = message.ChunkRequest.Ids;
                    if (ids.Count > MaxQueryIds)
                    {
                        throw new CradleProtocolException($"a chunk request of {ids.Count} ids exceeds the limit of {MaxQueryIds}");
                    }

                    var batch = new List<ChunkLocation>(ids.Count);
                    served.Enqueue(batch);
                    if (served.Count > 3)
                    {
                        served.Dequeue();
                    }

                    foreach (var bytes in ids)
                    {
                        var id = ChunkId.Read(bytes.Span);
                        if (!allowed.Contains(id))
                        {
                            throw new CradleProtocolException($"chunk {id} is not part of the snapshot being restored");
                        }

                        var location = reader.Locate(id);
                        batch.Add(location);
                        // Sent without decompressing and hashing it here: the device verifies every
                        // chunk against its id (ChunkMessage.Open), and the host doing it too was
                        // the same work twice. When the device refuses one, NameDamageAsync
                        // verifies here and names the pack.
                        var (compression, stored) = await reader.ReadChunkForWireAsync(location, sendCodec, cancellationToken).ConfigureAwait(false);
                        var data = new ChunkData
                        {
                            Id = bytes,
                            Compression = compression == ChunkCompression.Zstd ? Compression.Zstd : Compression.None,
                            RawLength = (uint)location.Entry.RawLength,
                            // Not copied: SendAsync serializes the message before it returns, and
                            // the buffer is reused only by the next read.
                            Data = UnsafeByteOperations.UnsafeWrap(stored),
                        };
                        await _channel.SendAsync(new Envelope { ChunkData = data }, cancellationToken).ConfigureAwait(false);
                        sent++;
                        rawSent += location.Entry.RawLength;
                        _live.Progress(0, rawSent);
                    }

                    break;
                case Envelope.BodyOneofCase.RestoreDone:
                    var done = message.RestoreDone;
                    HostLog.RestoreFinished(logger, Remote, _device.Value, done.Restored, done.Skipped, done.Failed, sent);
                    return;
                case Envelope.BodyOneofCase.Goodbye:
                    throw new LinkClosedException($"the device left in the middle of a restore: {WireText.Clean(message.Goodbye.Reason)}");
                default:
                    throw new CradleProtocolException($"unexpected {message.BodyCase} during a restore");
            }
        }
    }

    /// <summary>
    /// A restore that ended early may have ended because the device found a chunk that does not
    /// match its id: the host sends chunks unverified. The chunks it may have refused are
    /// verified here, and a damaged one is logged naming its pack, so the operator learns of the
    /// damage from the host too, not only the device's user from the device.
    /// </summary>
    private async Task NameDamageAsync(SnapshotReader reader, IEnumerable<List<ChunkLocation>> served, string reason, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkerOptions.AbsoluteMaxSize);
        try
        {
            foreach (var location in served.SelectMany(b => b))
            {
                await reader.ReadChunkAsync(location, buffer.AsMemory(0, location.Entry.RawLength), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StoreCorruptException e)
        {
            HostLog.RestoreFoundDamage(logger, Remote, _device.Value, reason, e.Message);
            throw new LinkClosedException($"{reason}; the store is damaged: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
