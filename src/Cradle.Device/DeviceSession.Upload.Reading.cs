using System.Diagnostics;
using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Google.Protobuf;
using EntryKind = Cradle.Content.EntryKind;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>Reading one file for the upload: its chunks, a re-read when it changed while read, and what could not be read.</summary>
    private sealed partial class Upload
    {
        /// <summary>
        /// Something that could not be read: the host (version 3) hears its path and why, and keeps
        /// its earlier version; an older host cannot be told, and the snapshot simply lacks it.
        /// </summary>
        private async Task AddProblemAsync(ScanEntry entry, string reason, CancellationToken cancellationToken)
        {
            Problems.Add(new BackupProblem(entry.Path, entry.FullPath, reason, entry.Kind == EntryKind.Directory));
            DeviceEngineLog.Unreadable(session._options.Logger, entry.FullPath, reason);
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

                DeviceEngineLog.ChangedWhileRead(session._options.Logger, entry.FullPath);
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
    }
}
