using System.Diagnostics;
using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Google.Protobuf;
using EntryKind = Cradle.Content.EntryKind;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>
    /// One backup's upload: batches of chunks, queried, sent, then the entries that need them.
    /// Two batches take turns: while one is compressed and sent on the thread pool, the next is
    /// read, chunked and hashed, and its query goes out as soon as it is full, so its answer is
    /// back before its turn comes and the link never waits for a round trip.
    /// </summary>
    private sealed partial class Upload(DeviceSession session, FilesCache cache, FilesCacheWriter nextCache, ScanResult scan, long wireAtStart)
    {
        private readonly Queue<ScanEntry> _rereads = new();
        private readonly HashSet<string> _staleParts = new(StringComparer.Ordinal);
        private readonly HashSet<ChunkId> _owed = [];
        private bool _owedPastLimit;
        private readonly ChunkCodec _codec = new();
        private readonly CompressionGovernor _governor = new();
        private readonly Lock _reportLock = new();
        private Batch _batch = new(session._options.BatchBytes);
        private Batch? _spare = new(session._options.BatchBytes);
        private Task<Batch>? _sending;
        private Chunker? _chunker;
        private uint _queryId;
        private long _bytesDone;
        private long _lastReport;

        public long Files { get; private set; }
        public long Bytes { get; private set; }
        public long FilesRead { get; private set; }
        public long BytesRead { get; private set; }
        public long ChunksSent { get; private set; }

        /// <summary>The zstd level of the last chunk sent, and the highest the session used (<see cref="CompressionGovernor"/>).</summary>
        public int CompressionLevel => _governor.Level;

        public int HighestCompressionLevel => _governor.HighestLevel;
        public List<string> Skipped { get; } = [.. scan.Skipped];

        /// <summary>What could not be read, in scan order: sent as such to a version 3 host, which keeps its earlier version.</summary>
        public List<BackupProblem> Problems { get; } = [];

        /// <summary>Entries with a problem that went to the host (none in a session older than version 3).</summary>
        public long ProblemsSent { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                foreach (var entry in scan.Entries)
                {
                    await AddAsync(entry, useCache: true, cancellationToken).ConfigureAwait(false);
                    if (_owedPastLimit)
                    {
                        // The host bounds what a session may owe: pay before asking about more.
                        await SettleRereadsAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                await SettleRereadsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or LinkClosedException)
            {
                // The host may have refused (its disk is full, say) and closed while a query or a
                // chunk was on its way out: its refusal, not the broken pipe, is the reason.
                if (_sending is not null)
                {
                    await ((Task)_sending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    _sending = null;
                }

                throw await RefusalBehindAsync().ConfigureAwait(false) ?? e;
            }
            finally
            {
                // The codec is in use until the batch in flight has ended, whichever way it ends.
                if (_sending is not null)
                {
                    await ((Task)_sending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                _codec.Dispose();
            }
        }

        /// <summary>Sends what is gathered, then reads again, a batch each, the files whose cached chunks the host no longer has.</summary>
        private async Task SettleRereadsAsync(CancellationToken cancellationToken)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            await DrainAsync().ConfigureAwait(false);
            while (_rereads.Count > 0)
            {
                await AddAsync(_rereads.Dequeue(), useCache: false, cancellationToken).ConfigureAwait(false);
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                await DrainAsync().ConfigureAwait(false);
            }

            _owedPastLimit = false;
        }

        /// <summary>The host's refusal still waiting to be read behind the answers already sent, if any.</summary>
        private async Task<Exception?> RefusalBehindAsync()
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                for (var i = 0; i < 8; i++)
                {
                    var message = await session._channel.ReceiveAsync(wait.Token).ConfigureAwait(false);
                    if (message.BodyCase == Envelope.BodyOneofCase.Refusal)
                    {
                        try
                        {
                            Expect(message, Envelope.BodyOneofCase.BackupCommitted);
                        }
                        catch (CradleException refusal)
                        {
                            return refusal;
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or CradleException or OperationCanceledException)
            {
                // Nothing more to read: the broken link is the reason after all.
            }

            return null;
        }

        private async Task AddAsync(ScanEntry entry, bool useCache, CancellationToken cancellationToken)
        {
            if (entry.Problem is not null)
            {
                await AddProblemAsync(entry, entry.Problem, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (entry.Kind == EntryKind.Directory)
            {
                _batch.Files.Add(new PendingFile(entry, [], CacheHit: false, Cacheable: false));
                if (_batch.Files.Count >= MaxEntriesPerBatch)
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            var cached = useCache ? cache.Lookup(entry) : null;
            if (cached is not null)
            {
                // A large unchanged file can name more chunks than one query may carry: its ids
                // go out over several queries, and its entry with the last of them.
                // An empty file has no chunk but still one entry: the loop runs at least once.
                for (var start = 0; start == 0 || start < cached.Length; start += session._options.BatchChunks)
                {
                    if (_batch.Chunks.Count >= session._options.BatchChunks)
                    {
                        await FlushAsync(cancellationToken).ConfigureAwait(false);
                    }

                    var fileIndex = _batch.Files.Count;
                    foreach (var id in cached.AsSpan(start, Math.Min(session._options.BatchChunks, cached.Length - start)))
                    {
                        _batch.Chunks.Add(new BatchChunk(id, -1, 0, fileIndex));
                    }

                    // Later parts of the file follow in the next batch; if this part is stale,
                    // the whole file is read again.
                    var partial = start + session._options.BatchChunks < cached.Length;
                    _batch.Files.Add(new PendingFile(entry, cached, CacheHit: true, Cacheable: true, Partial: partial));
                }

                _bytesDone += entry.Size;
                if (_batch.Chunks.Count >= session._options.BatchChunks || _batch.Files.Count >= MaxEntriesPerBatch)
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            await ReadFileAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Hands the gathered batch to the sender once the one before it is out, and goes on with an empty one.</summary>
        private async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_batch.Chunks.Count == 0 && _batch.Files.Count == 0)
            {
                return;
            }

            if (_batch.Chunks.Count > 0)
            {
                var query = new ChunkQuery { QueryId = ++_queryId };
                foreach (var chunk in _batch.Chunks)
                {
                    query.Ids.Add(UnsafeByteOperations.UnsafeWrap(chunk.Id.ToArray()));
                }

                _batch.QueryId = query.QueryId;
                await session._channel.SendAsync(new Envelope { ChunkQuery = query }, cancellationToken).ConfigureAwait(false);
            }

            await DrainAsync().ConfigureAwait(false);
            var full = _batch;
            _batch = _spare!;
            _spare = null;
            _sending = Task.Run(() => SendAsync(full, cancellationToken), cancellationToken);
        }

        /// <summary>Waits for the batch in flight; its faults surface here.</summary>
        private async Task DrainAsync()
        {
            if (_sending is null)
            {
                return;
            }

            var sent = await _sending.ConfigureAwait(false);
            _sending = null;
            sent.Clear();
            _spare = sent;

            // Read here, where the sender is idle: it is the only other user of the owed set.
            _owedPastLimit |= _owed.Count >= session._options.OwedBeforeReread;
        }

        /// <summary>
        /// Takes the host's answer to the batch's query, sends the chunks it lacks, then the
        /// entries whose chunks are all there. Answers come in the order of the queries.
        /// </summary>
        private async Task<Batch> SendAsync(Batch batch, CancellationToken cancellationToken)
        {
            var stale = new HashSet<int>();
            if (batch.Chunks.Count > 0)
            {
                var asked = Stopwatch.GetTimestamp();
                var answer = Expect(await session._channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.ChunkAnswer).ChunkAnswer;

                // The answer comes behind the chunks still on the link: on a slow link with big
                // socket buffers this is where the device waits for the link, not in its sends.
                _governor.RecordLinkWait(Stopwatch.GetTimestamp() - asked);
                if (answer.QueryId != batch.QueryId)
                {
                    throw new CradleProtocolException($"the host answered query {answer.QueryId}, expected {batch.QueryId}");
                }

                Dictionary<ChunkId, BatchChunk>? withData = null;
                foreach (var index in answer.Missing)
                {
                    if (index >= batch.Chunks.Count)
                    {
                        throw new CradleProtocolException($"the host named chunk {index} of a query of {batch.Chunks.Count}");
                    }

                    var chunk = batch.Chunks[(int)index];
                    if (chunk.Offset < 0)
                    {
                        // The host asks for each id once per query: when a file read in this batch
                        // holds the same chunk, send it from there.
                        withData ??= batch.Chunks.Where(c => c.Offset >= 0).DistinctBy(c => c.Id).ToDictionary(c => c.Id);
                        if (withData.TryGetValue(chunk.Id, out var read))
                        {
                            await SendChunkAsync(batch, read, cancellationToken).ConfigureAwait(false);
                            continue;
                        }

                        // The cache said the host had it, the host says no: read that file
                        // again. The host does not ask twice: the chunk is owed until then.
                        _owed.Add(chunk.Id);
                        stale.Add(chunk.FileIndex);
                        continue;
                    }

                    await SendChunkAsync(batch, chunk, cancellationToken).ConfigureAwait(false);
                }

                if (_owed.Count > 0)
                {
                    await SettleOwedAsync(batch, stale, cancellationToken).ConfigureAwait(false);
                }
            }

            var entries = new FileEntries();
            for (var i = 0; i < batch.Files.Count; i++)
            {
                var file = batch.Files[i];
                if (stale.Contains(i) || _staleParts.Contains(file.Entry.Path))
                {
                    if (file.Partial)
                    {
                        _staleParts.Add(file.Entry.Path);
                    }
                    else
                    {
                        _staleParts.Remove(file.Entry.Path);
                        _rereads.Enqueue(file.Entry);
                    }

                    continue;
                }

                if (file.Partial)
                {
                    continue;
                }

                entries.Entries.Add(ToWire(file));
                if (file.Entry.Problem is not null)
                {
                    ProblemsSent++;
                }
                else if (file.Entry.Kind == EntryKind.File)
                {
                    Files++;
                    Bytes += file.Entry.Size;
                    if (file.Cacheable)
                    {
                        nextCache.Add(file.Entry, file.Chunks);
                    }
                }
            }

            if (entries.Entries.Count > 0)
            {
                await session._channel.SendAsync(new Envelope { FileEntries = entries }, cancellationToken).ConfigureAwait(false);
            }

            Report(force: true);
            return batch;
        }

        /// <summary>
        /// Chunks owed from an earlier batch: the host did not ask for them again. Sent from this
        /// batch's data when it holds them; a cached file that names one is read again too.
        /// </summary>
        private async Task SettleOwedAsync(Batch batch, HashSet<int> stale, CancellationToken cancellationToken)
        {
            foreach (var chunk in batch.Chunks)
            {
                if (chunk.Offset >= 0 && _owed.Remove(chunk.Id))
                {
                    await SendChunkAsync(batch, chunk, cancellationToken).ConfigureAwait(false);
                }
            }

            foreach (var chunk in batch.Chunks)
            {
                if (chunk.Offset < 0 && _owed.Contains(chunk.Id))
                {
                    stale.Add(chunk.FileIndex);
                }
            }
        }

        private async Task SendChunkAsync(Batch batch, BatchChunk chunk, CancellationToken cancellationToken)
        {
            _owed.Remove(chunk.Id);
            var raw = batch.Data.AsMemory(chunk.Offset, chunk.Length);
            if (_codec.Level != _governor.Level)
            {
                _codec.Level = _governor.Level;
            }

            var start = Stopwatch.GetTimestamp();
            var (compression, data) = _codec.Compress(raw);
            var compressed = Stopwatch.GetTimestamp();
            await session._channel.SendAsync(new Envelope
            {
                ChunkData = new ChunkData
                {
                    Id = UnsafeByteOperations.UnsafeWrap(chunk.Id.ToArray()),
                    Compression = compression == ChunkCompression.Zstd ? Compression.Zstd : Compression.None,
                    RawLength = (uint)chunk.Length,
                    Data = UnsafeByteOperations.UnsafeWrap(data),
                },
            }, cancellationToken).ConfigureAwait(false);
            if (compression == ChunkCompression.Zstd)
            {
                // Media that zstd cannot shrink tells nothing about what a harder level would save.
                _governor.Record(compressed - start, Stopwatch.GetTimestamp() - compressed, data.Length);
            }
            ChunksSent++;
            Report(force: false);
        }

        /// <summary>Progress from either side of the pipeline, one report at a time.</summary>
        private void Report(bool force)
        {
            lock (_reportLock)
            {
                var now = Environment.TickCount64;
                if (!force && now - _lastReport < 100)
                {
                    return;
                }

                _lastReport = now;
                session._observer.Progress(new BackupProgress("uploading", Files, scan.Files, Volatile.Read(ref _bytesDone), scan.Bytes, session._wire.BytesWritten - wireAtStart));
            }
        }

        private static FileEntry ToWire(PendingFile file)
        {
            var entry = new FileEntry
            {
                Path = file.Entry.Path,
                Kind = file.Entry.Kind == EntryKind.Directory ? Protocol.Messages.EntryKind.Directory : Protocol.Messages.EntryKind.File,
                Size = (ulong)file.Entry.Size,
                MtimeUnixNs = file.Entry.MtimeUnixNs,
                Mode = file.Entry.Mode,
                Problem = file.Entry.Problem ?? "",
                LinkTo = file.Entry.Problem is null ? file.Entry.LinkTo ?? "" : "",
            };
            foreach (var id in file.Chunks)
            {
                entry.ChunkIds.Add(UnsafeByteOperations.UnsafeWrap(id.ToArray()));
            }

            return entry;
        }
    }
}
