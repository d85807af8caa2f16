using System.Diagnostics;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Cradle.Store;
using Google.Protobuf;
using EntryKind = Cradle.Store.EntryKind;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>
    /// One backup's upload: batches of chunks, queried, sent, then the entries that need them.
    /// Two batches take turns: while one is compressed and sent on the thread pool, the next is
    /// read, chunked and hashed, and its query goes out as soon as it is full, so its answer is
    /// back before its turn comes and the link never waits for a round trip.
    /// </summary>
    private sealed class Upload(DeviceSession session, FilesCache cache, FilesCacheWriter nextCache, ScanResult scan, long wireAtStart)
    {
        private readonly Queue<ScanEntry> _rereads = new();
        private readonly HashSet<string> _staleParts = new(StringComparer.Ordinal);
        private readonly HashSet<ChunkId> _owed = [];
        private bool _owedPastLimit;
        private readonly ChunkCodec _codec = new();
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

        /// <summary>
        /// Something that could not be read: the host (version 3) hears its path and why, and keeps
        /// its earlier version; an older host cannot be told, and the snapshot simply lacks it.
        /// </summary>
        private async Task AddProblemAsync(ScanEntry entry, string reason, CancellationToken cancellationToken)
        {
            Problems.Add(new BackupProblem(entry.Path, entry.FullPath, reason, entry.Kind == EntryKind.Directory));
            session._observer.Warning($"could not read {entry.FullPath}: {reason}; {(session._version >= ProtocolVersion.Problems ? "its earlier version is kept" : "this snapshot lacks it")}");
            if (session._version < ProtocolVersion.Problems)
            {
                return;
            }

            _batch.Files.Add(new PendingFile(entry with { Size = 0, Problem = reason }, [], CacheHit: false, Cacheable: false));
            if (_batch.Files.Count >= MaxEntriesPerBatch)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Reads, chunks and hashes a file. One that changes while it is read (a copy still being
        /// written into place, a log appended to) is read again, up to
        /// <see cref="DeviceOptions.ChangedFileRetries"/> more times; one that never holds still
        /// is a problem (its earlier version is kept): a half-written file is never stored as if whole.
        /// </summary>
        private async Task ReadFileAsync(ScanEntry entry, CancellationToken cancellationToken)
        {
            for (var attempt = 0; ; attempt++)
            {
                if (attempt > 0)
                {
                    await Task.Delay(session._options.ChangedFileRetryDelay, session._options.Time, cancellationToken).ConfigureAwait(false);
                    entry = Restat(entry);
                }

                var read = await ReadOnceAsync(entry, cancellationToken).ConfigureAwait(false);
                if (read is null)
                {
                    return;
                }

                var (ids, length, unchanged) = read.Value;
                if (attempt == 0)
                {
                    FilesRead++;
                }

                if (unchanged)
                {
                    _batch.Files.Add(new PendingFile(entry with { Size = length }, [.. ids], CacheHit: false, Cacheable: true));
                    break;
                }

                if (attempt >= session._options.ChangedFileRetries)
                {
                    await AddProblemAsync(entry, $"it changed while it was read, {attempt + 1} times", cancellationToken).ConfigureAwait(false);
                    return;
                }

                session._observer.Warning($"{entry.FullPath} changed while it was read: reading it again");
            }

            if (_batch.Chunks.Count >= session._options.BatchChunks || _batch.Files.Count >= MaxEntriesPerBatch)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The entry with the file's size and time as they are now (for a read again after a change).</summary>
        private static ScanEntry Restat(ScanEntry entry)
        {
            var info = new FileInfo(entry.FullPath);
            return info.Exists ? entry with { Size = info.Length, MtimeUnixNs = TreeEntry.ToUnixNs(info.LastWriteTimeUtc) } : entry;
        }

        /// <summary>One read of a file into the batch: its chunk ids, its length, and whether it held still; null when it could not be opened (a problem).</summary>
        private async Task<(List<ChunkId> Ids, long Length, bool Unchanged)?> ReadOnceAsync(ScanEntry entry, CancellationToken cancellationToken)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(entry.FullPath, new FileStreamOptions
                {
                    Mode = FileMode.Open,
                    Access = FileAccess.Read,
                    Share = FileShare.ReadWrite | FileShare.Delete,
                    BufferSize = 0,
                    Options = FileOptions.SequentialScan,
                });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await AddProblemAsync(entry, Scanner.Reason(e), cancellationToken).ConfigureAwait(false);
                return null;
            }

            var ids = new List<ChunkId>();
            long length = 0;
            long mtimeAfter;
            await using (stream.ConfigureAwait(false))
            {
                var chunker = _chunker ??= new Chunker(stream);
                chunker.Reset(stream);
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await chunker.MoveNextAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException e)
                    {
                        // A read error half-way (a bad sector, a file system gone): a problem like an unreadable file.
                        await AddProblemAsync(entry, Scanner.Reason(e), cancellationToken).ConfigureAwait(false);
                        return null;
                    }

                    if (!more)
                    {
                        break;
                    }

                    var chunk = chunker.Current;
                    var id = ChunkId.Of(chunk.Span);
                    ids.Add(id);
                    _batch.Append(id, chunk.Span);
                    length += chunk.Length;
                    _bytesDone += chunk.Length;
                    BytesRead += chunk.Length;
                    if (_batch.DataLength >= session._options.BatchBytes || _batch.Chunks.Count >= session._options.BatchChunks)
                    {
                        await FlushAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                mtimeAfter = TreeEntry.ToUnixNs(File.GetLastWriteTimeUtc(stream.SafeFileHandle));
            }

            // A file that changed while it was read is caught by its length or, written in place at
            // a preallocated size, by its modification time read again after the read.
            return (ids, length, length == entry.Size && mtimeAfter == entry.MtimeUnixNs);
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
                var answer = Expect(await session._channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.ChunkAnswer).ChunkAnswer;
                if (answer.QueryId != batch.QueryId)
                {
                    throw new ProtocolViolationException($"the host answered query {answer.QueryId}, expected {batch.QueryId}");
                }

                Dictionary<ChunkId, BatchChunk>? withData = null;
                foreach (var index in answer.Missing)
                {
                    if (index >= batch.Chunks.Count)
                    {
                        throw new ProtocolViolationException($"the host named chunk {index} of a query of {batch.Chunks.Count}");
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
            var (compression, data) = _codec.Compress(raw);
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
            };
            foreach (var id in file.Chunks)
            {
                entry.ChunkIds.Add(UnsafeByteOperations.UnsafeWrap(id.ToArray()));
            }

            return entry;
        }
    }

    /// <summary>The chunks and entries gathered for one query, with the read chunks' bytes.</summary>
    private sealed class Batch(int batchBytes)
    {
        public List<BatchChunk> Chunks { get; } = [];
        public List<PendingFile> Files { get; } = [];
        public byte[] Data { get; } = new byte[batchBytes + ChunkerOptions.AbsoluteMaxSize];
        public int DataLength { get; private set; }

        /// <summary>The query that asked the host about these chunks (0 before it went out).</summary>
        public uint QueryId { get; set; }

        public void Append(ChunkId id, ReadOnlySpan<byte> chunk)
        {
            chunk.CopyTo(Data.AsSpan(DataLength));
            Chunks.Add(new BatchChunk(id, DataLength, chunk.Length, -1));
            DataLength += chunk.Length;
        }

        public void Clear()
        {
            Chunks.Clear();
            Files.Clear();
            DataLength = 0;
            QueryId = 0;
        }
    }

    /// <summary>A chunk in the current batch: its data at <c>Offset</c> in the batch buffer, or (Offset -1) known only from the cache.</summary>
    private readonly record struct BatchChunk(ChunkId Id, int Offset, int Length, int FileIndex);

    /// <summary>A file or folder whose entry goes out with this batch; <c>Partial</c> marks an early part of a large cached file, whose entry goes with its last part.</summary>
    private sealed record PendingFile(ScanEntry Entry, ChunkId[] Chunks, bool CacheHit, bool Cacheable, bool Partial = false);

    /// <summary>Entries per FileEntries message: far below the frame cap even with long paths.</summary>
    private const int MaxEntriesPerBatch = 512;
}
