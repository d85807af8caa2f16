using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Google.Protobuf;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>
    /// Restores a snapshot the host keeps onto this device's data folders. Every path from the
    /// host is checked (<see cref="RestorePaths"/>) and a refused one is reported, never
    /// written. Each file is written to a temporary file in its folder, flushed to disk and
    /// renamed over the old one, so a file is either the old or the whole new one. A device
    /// file newer than the snapshot's copy is kept unless <see cref="RestoreChoice.Overwrite"/>.
    /// </summary>
    public async Task<RestoreOutcome> RestoreAsync(RestoreChoice choice, CancellationToken cancellationToken)
    {
        await _channel.SendAsync(new Envelope
        {
            RestoreRequest = new RestoreRequest { SnapshotId = choice.SnapshotId, SourceDevice = choice.SourceDevice ?? "" },
        }, cancellationToken).ConfigureAwait(false);
        var offer = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.RestoreOffer).RestoreOffer;
        if (offer.Entries > WireLimits.MaxEntriesPerSnapshot)
        {
            throw new CradleProtocolException($"the host offers {offer.Entries} entries; a snapshot holds at most {WireLimits.MaxEntriesPerSnapshot}");
        }

        var entries = new List<FileEntry>();
        while ((ulong)entries.Count < offer.Entries)
        {
            var batch = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.FileEntries).FileEntries;
            if ((ulong)(entries.Count + batch.Entries.Count) > offer.Entries)
            {
                throw new CradleProtocolException($"the host sent more entries than the {offer.Entries} it offered");
            }

            entries.AddRange(batch.Entries);
        }

        var outcome = new RestoreBook();
        var (files, links, folders) = await PlanAsync(entries, choice, outcome, cancellationToken).ConfigureAwait(false);
        await using var fetcher = new ChunkFetcher(this, files.SelectMany(f => f.Chunks).ToList());
        var parents = new HashSet<string>(StringComparer.Ordinal);
        _observer.Progress(new BackupProgress("restoring", 0, files.Count, 0, files.Sum(f => (long)f.Entry.Size), 0));
        // Files become durable a batch at a time (one sync per file system, not an fsync per
        // file), and are counted restored only once they are (DurableBatch). A full batch is
        // committed on another thread while the next one is written: its syncs wait for the disk,
        // and waiting here stopped the link too (the profile's idle stretches, half a second per
        // 64 MiB). One batch commits at a time, and batches are counted in order.
        var durable = new DurableBatch();
        Task<List<(string Label, long Bytes, string? Failure)>>? committing = null;
        try
        {
            foreach (var file in files)
            {
                await RestoreFileAsync(file, fetcher, durable, outcome, cancellationToken).ConfigureAwait(false);
                parents.Add(Path.GetDirectoryName(file.Path)!);
                if (durable.IsFull)
                {
                    if (committing is not null)
                    {
                        Count(await committing.ConfigureAwait(false), outcome);
                    }

                    var full = durable;
                    durable = new DurableBatch();
                    committing = Task.Run(full.Commit, CancellationToken.None);
                }
            }

            if (committing is not null)
            {
                Count(await committing.ConfigureAwait(false), outcome);
                committing = null;
            }

            Count(durable.Commit(), outcome);
        }
        finally
        {
            if (committing is not null)
            {
                // A failed restore still lets the batch under way finish: its files are whole.
                await ((Task)committing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            durable.Abandon();
        }

        // Hard links last, once the files they name are written.
        var restored = outcome.Restored.ToHashSet(StringComparer.Ordinal);
        foreach (var link in links)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RestoreLink(link, restored.Contains(link.Target.Entry.Path), outcome);
            parents.Add(Path.GetDirectoryName(link.Path)!);
        }

        // Folder times last (deepest first): writing files into a folder changes its time.
        foreach (var (path, entry) in folders.OrderByDescending(f => f.Path.Length))
        {
            FileModes.Apply(path, entry.Mode);
            Directory.SetLastWriteTimeUtc(path, ToUtc(entry.MtimeUnixNs));
            parents.Add(path);
        }

        Durability.SyncFileSystems(parents, []);

        await _channel.SendAsync(new Envelope
        {
            RestoreDone = new RestoreDone { Restored = (ulong)outcome.Restored.Count, Skipped = (ulong)outcome.Skipped.Count, Failed = (ulong)outcome.Failed.Count },
        }, cancellationToken).ConfigureAwait(false);
        // Paths, names and grounds came from the host: what is printed or logged passes the sanitiser.
        // (A lambda, not the method group: Select would bind Clean's length to the element's index.)
        return new RestoreOutcome(HostName, offer.SnapshotId, WireText.Clean(offer.SourceDevice), DateTimeOffset.FromUnixTimeMilliseconds(offer.TimeUnixMs), WireText.Clean(offer.Grounds), IsGuest,
            [.. outcome.Restored.Select(path => WireText.Clean(path))], [.. outcome.Skipped.Select(Shown)], [.. outcome.Failed.Select(Shown)], outcome.Bytes);

        static RestoreIssue Shown(RestoreIssue issue) => new(WireText.Clean(issue.Path), WireText.Clean(issue.Reason));
    }

    /// <summary>
    /// Which entries to write where; refused paths, newer device files and obstacles are reported
    /// here, and files already whole (size, time and content as the snapshot has them: a restore
    /// that was cut wrote them) are skipped, so their chunks are never asked for again. The
    /// temporary files a cut restore left in the folders concerned are removed. A file that was a
    /// hard link (its entry names another path) whose other name is written by this restore with
    /// the same chunks becomes a link to it; its chunks are not asked for.
    /// </summary>
    private async Task<(List<PlannedFile> Files, List<PlannedLink> Links, List<(string Path, FileEntry Entry)> Folders)> PlanAsync(List<FileEntry> entries, RestoreChoice choice, RestoreBook outcome, CancellationToken cancellationToken)
    {
        var files = new List<PlannedFile>();
        var links = new List<PlannedLink>();
        var planned = new Dictionary<string, PlannedFile>(StringComparer.Ordinal);
        var folders = new List<(string, FileEntry)>();
        var swept = new HashSet<string>(StringComparer.Ordinal);
        var chunker = new Chunker(Stream.Null);
        foreach (var entry in entries)
        {
            if (!PathGlob.MatchesAny(choice.Paths, entry.Path))
            {
                continue;
            }

            var full = RestorePaths.Resolve(_identity.Folders, entry.Path, out var reason);
            if (full is null)
            {
                outcome.Failed.Add(new RestoreIssue(entry.Path, "refused: " + reason));
                continue;
            }

            try
            {
                var folder = entry.Kind == Protocol.Messages.EntryKind.Directory ? full : Path.GetDirectoryName(full)!;
                if (swept.Add(folder))
                {
                    RestoredFile.RemoveLeftovers(folder);
                }

                switch (entry.Kind)
                {
                    case Protocol.Messages.EntryKind.Directory when File.Exists(full):
                        outcome.Failed.Add(new RestoreIssue(entry.Path, "a file of that name is on the device where the snapshot has a folder"));
                        break;
                    case Protocol.Messages.EntryKind.Directory:
                        Directory.CreateDirectory(full);
                        folders.Add((full, entry));
                        break;
                    case Protocol.Messages.EntryKind.File when Directory.Exists(full):
                        outcome.Failed.Add(new RestoreIssue(entry.Path, "a folder of that name is on the device where the snapshot has a file"));
                        break;
                    case Protocol.Messages.EntryKind.File when await IsWholeAsync(full, entry, chunker, cancellationToken).ConfigureAwait(false):
                        outcome.Skipped.Add(new RestoreIssue(entry.Path, AlreadyWhole));
                        break;
                    case Protocol.Messages.EntryKind.File when !choice.Overwrite && File.Exists(full) && File.GetLastWriteTimeUtc(full) > ToUtc(entry.MtimeUnixNs):
                        outcome.Skipped.Add(new RestoreIssue(entry.Path, $"the device's copy is newer ({File.GetLastWriteTimeUtc(full):yyyy-MM-dd HH:mm:ss} UTC) than the snapshot's ({ToUtc(entry.MtimeUnixNs):yyyy-MM-dd HH:mm:ss} UTC); --overwrite replaces it"));
                        break;
                    case Protocol.Messages.EntryKind.File:
                        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                        var file = new PlannedFile(entry, full, entry.ChunkIds.Select(id => ChunkId.Read(id.Span)).ToArray());
                        if (entry.LinkTo.Length > 0 && planned.TryGetValue(entry.LinkTo, out var target) && target.Chunks.AsSpan().SequenceEqual(file.Chunks))
                        {
                            links.Add(new PlannedLink(entry, full, target));
                        }
                        else
                        {
                            files.Add(file);
                            planned[entry.Path] = file;
                        }

                        break;
                    default:
                        outcome.Failed.Add(new RestoreIssue(entry.Path, $"unknown entry kind {(int)entry.Kind}"));
                        break;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                outcome.Failed.Add(new RestoreIssue(entry.Path, e.Message));
            }
        }

        return (files, links, folders);
    }

    /// <summary>Why a file was skipped because it already is the snapshot's.</summary>
    public const string AlreadyWhole = "already whole: the same size, time and content as the snapshot's";

    private static async Task<bool> IsWholeAsync(string path, FileEntry entry, Chunker chunker, CancellationToken cancellationToken)
    {
        if (entry.Size > long.MaxValue || !RestoredFile.LooksWhole(path, (long)entry.Size, ToUtc(entry.MtimeUnixNs)))
        {
            return false;
        }

        var ids = new ChunkId[entry.ChunkIds.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            if (entry.ChunkIds[i].Length != ChunkId.Length)
            {
                return false;
            }

            ids[i] = ChunkId.Read(entry.ChunkIds[i].Span);
        }

        return await RestoredFile.IsWholeAsync(path, (long)entry.Size, ToUtc(entry.MtimeUnixNs), ids, chunker, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a file's chunks to a temporary name in its folder and hands it, closed, to
    /// <paramref name="batch"/>, which makes it durable and gives it its real name; a file that
    /// cannot be written is reported failed and its temporary file removed.
    /// </summary>
    private async Task RestoreFileAsync(PlannedFile file, ChunkFetcher fetcher, DurableBatch batch, RestoreBook outcome, CancellationToken cancellationToken)
    {
        // A short temporary name in the file's own folder, so the rename is atomic.
        var temp = RestoredFile.TempPathFor(file.Path);
        string? failure = null;
        FileStream? stream = null;
        var written = 0L;
        try
        {
            try
            {
                stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failure = e.Message;
            }

            foreach (var id in file.Chunks)
            {
                // Every chunk asked for is taken off the link, even for a file that already failed.
                var raw = await fetcher.NextAsync(id, cancellationToken).ConfigureAwait(false);
                if (failure is null)
                {
                    try
                    {
                        // Written at once: a page-cache write of one chunk is shorter than the
                        // thread-pool hop of an asynchronous one.
                        stream!.Write(raw.Span);
                        written += raw.Length;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        failure = e.Message;
                    }
                }
            }

            if (failure is null && (ulong)written != file.Entry.Size)
            {
                failure = $"the host's chunks make {written} bytes, its entry says {file.Entry.Size}";
            }

            if (failure is null)
            {
                try
                {
                    await stream!.DisposeAsync().ConfigureAwait(false);
                    stream = null;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    failure = e.Message;
                }
            }
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            if (failure is not null || stream is not null)
            {
                // Nothing half-restored is left behind; the file the device had stays as it was.
                File.Delete(temp);
            }
        }

        if (failure is not null)
        {
            outcome.Failed.Add(new RestoreIssue(file.Entry.Path, failure));
            return;
        }

        batch.Add(temp, file.Path, file.Entry.Mode, ToUtc(file.Entry.MtimeUnixNs), written, file.Entry.Path);
    }

    /// <summary>What a committed batch did, into the outcome: only files now durable under their names count as restored.</summary>
    private static void Count(List<(string Label, long Bytes, string? Failure)> committed, RestoreBook outcome)
    {
        foreach (var (label, bytes, failure) in committed)
        {
            if (failure is null)
            {
                outcome.Restored.Add(label);
                outcome.Bytes += bytes;
            }
            else
            {
                outcome.Failed.Add(new RestoreIssue(label, failure));
            }
        }
    }

    /// <summary>
    /// Makes a hard link of the snapshot again: a second name for the file this restore wrote.
    /// Where the device cannot link (another file system, FAT on a card), the written file is
    /// copied instead (same chunks, same content). When the other name could not be written,
    /// neither can this one, and it is reported as failed.
    /// </summary>
    private static void RestoreLink(PlannedLink link, bool targetRestored, RestoreBook outcome)
    {
        if (!targetRestored)
        {
            outcome.Failed.Add(new RestoreIssue(link.Entry.Path, $"it is a hard link to {link.Target.Entry.Path}, which could not be restored"));
            return;
        }

        try
        {
            try
            {
                RestoredFile.PlaceLink(link.Target.Path, link.Path);
            }
            catch (IOException)
            {
                var temp = RestoredFile.TempPathFor(link.Path);
                try
                {
                    File.Copy(link.Target.Path, temp);
                    RestoredFile.Place(temp, link.Path, link.Entry.Mode, ToUtc(link.Entry.MtimeUnixNs));
                }
                catch
                {
                    File.Delete(temp);
                    throw;
                }
            }

            outcome.Restored.Add(link.Entry.Path);
            outcome.Bytes += (long)link.Entry.Size;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            outcome.Failed.Add(new RestoreIssue(link.Entry.Path, e.Message));
        }
    }

    private static DateTime ToUtc(long unixNs) => DateTime.UnixEpoch.AddTicks(unixNs / 100);

    private sealed record PlannedFile(FileEntry Entry, string Path, ChunkId[] Chunks);

    private sealed record PlannedLink(FileEntry Entry, string Path, PlannedFile Target);

    private sealed class RestoreBook
    {
        public List<string> Restored { get; } = [];
        public List<RestoreIssue> Skipped { get; } = [];
        public List<RestoreIssue> Failed { get; } = [];
        public long Bytes { get; set; }
    }
}

/// <summary>What to restore: a snapshot (0: the newest), whose (null: this device's name), which paths, and whether newer device files are replaced.</summary>
public sealed record RestoreChoice(long SnapshotId = 0, string? SourceDevice = null, IReadOnlyList<string>? PathPatterns = null, bool Overwrite = false)
{
    public IReadOnlyList<string> Paths => PathPatterns ?? [];
}

/// <summary>A file a restore skipped or could not write, and why.</summary>
public sealed record RestoreIssue(string Path, string Reason);

/// <summary>What a restore did.</summary>
public sealed record RestoreOutcome(string Host, long SnapshotId, string SourceDevice, DateTimeOffset Time, string Grounds, bool Guest,
    IReadOnlyList<string> Restored, IReadOnlyList<RestoreIssue> Skipped, IReadOnlyList<RestoreIssue> Failed, long Bytes);
