using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>
    /// Backs up the data folders: scan, then chunk what changed, ask the host which chunks it
    /// lacks, send only those (compressed), send the file list, and wait for the commit. The
    /// files cache is read alongside the scan and the next one written as the backup goes;
    /// it replaces the old one only after the host committed. What could not be read is named
    /// to the host (version 3), which keeps its earlier version: the result says the snapshot
    /// is partial, never that it is whole.
    /// </summary>
    public async Task<BackupResult> BackupAsync(CancellationToken cancellationToken)
    {
        if (IsGuest)
        {
            throw new SessionRefusedException(RefusalClass.P3, $"this device is a guest on {HostName}: a guest cannot back up, and nothing is stored for it");
        }

        var clock = Stopwatch.StartNew();
        var wireAtStart = _wire.BytesWritten;
        var wireInAtStart = _wire.BytesRead;
        _observer.Progress(new BackupProgress("scanning", 0, 0, 0, 0, 0));
        var volatileFolder = Path.GetDirectoryName(_state.FilesCachePath)!;
        using var scan = Scanner.Scan(_identity.Folders, _identity.Exclude ?? [], volatileFolder, cancellationToken);
        foreach (var skipped in scan.Skipped)
        {
            DeviceEngineLog.Skipped(_options.Logger, skipped);
            _observer.Warning($"skipped {skipped}");
        }

        foreach (var unnamed in scan.Unnamed)
        {
            DeviceEngineLog.Unnamed(_options.Logger, unnamed);
            _observer.Warning(unnamed);
        }

        var order = new ScanOrder(_identity.Folders);
        FilesCache cache;
        try
        {
            cache = FilesCache.Open(_state.FilesCachePath, order);
        }
        catch (StoreFormatException e)
        {
            DeviceEngineLog.FilesCacheRebuilt(_options.Logger, e.Message);
            _observer.Warning($"the files cache is unreadable and is rebuilt ({e.Message}); every file is read again");
            cache = FilesCache.Empty();
        }

        using var cacheInUse = cache;
        using var nextCache = new FilesCacheWriter(volatileFolder, order);
        await _channel.SendAsync(new Envelope { BackupBegin = new BackupBegin { StartedUnixMs = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(), Files = (ulong)scan.Files, Bytes = (ulong)scan.Bytes } }, cancellationToken).ConfigureAwait(false);
        var upload = new Upload(this, cache, nextCache, scan, wireAtStart);
        await upload.RunAsync(cancellationToken).ConfigureAwait(false);
        if (_options.Logger.IsEnabled(LogLevel.Debug))
        {
            // What the upload cost in managed memory: where a handheld's peak comes from (docs/BENCHMARKS.md).
            var gc = GC.GetGCMemoryInfo();
            var budget = GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var set) && set is long cap ? cap : 0;
            DeviceEngineLog.BackupMemory(_options.Logger, budget, GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), gc.HeapSizeBytes, gc.FragmentedBytes, gc.TotalCommittedBytes, gc.GenerationInfo[0].SizeBeforeBytes, gc.GenerationInfo[0].SizeAfterBytes, gc.GenerationInfo[3].SizeBeforeBytes, gc.GenerationInfo[3].SizeAfterBytes);
        }

        var end = new BackupEnd { Files = (ulong)upload.Files, Bytes = (ulong)upload.Bytes, Problems = (ulong)upload.ProblemsSent };
        if (_version >= ProtocolVersion.Problems)
        {
            end.Unnamed.AddRange(scan.Unnamed.Take(MaxUnnamedNotes).Select(n => n.Length > 1000 ? n[..1000] : n));
        }

        await _channel.SendAsync(new Envelope { BackupEnd = end }, cancellationToken).ConfigureAwait(false);
        _observer.Progress(new BackupProgress("committing", upload.Files, scan.Files, upload.Bytes, scan.Bytes, _wire.BytesWritten - wireAtStart));
        var committed = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.BackupCommitted).BackupCommitted;

        cache.Dispose();
        // After an unchanged re-run the next cache is the same as the old one: not rewritten.
        nextCache.Save(_state.FilesCachePath, cache);
        List<BackupProblem> problems = [.. upload.Problems, .. scan.Unnamed.Select(n => new BackupProblem("", "", n, Folder: false))];
        var result = new BackupResult(committed.SnapshotId, upload.Files, upload.Bytes, upload.FilesRead, upload.BytesRead, upload.ChunksSent,
            _wire.BytesWritten - wireAtStart, _wire.BytesRead - wireInAtStart, (long)committed.NewChunks, (long)committed.StoredBytes, clock.Elapsed, upload.Skipped)
        {
            Problems = problems,
            HostKeptEarlierVersions = _version >= ProtocolVersion.Problems,
            CarriedForward = (long)committed.CarriedForward,
            Unchanged = committed.Unchanged,
            Suspect = committed.Suspect,
            PreviousFiles = (long)committed.PreviousFiles,
            SnapshotFiles = (long)committed.Files,
            SnapshotBytes = (long)committed.Bytes,
            CompressionLevel = upload.ChunksSent > 0 ? upload.CompressionLevel : 0,
            HighestCompressionLevel = upload.ChunksSent > 0 ? upload.HighestCompressionLevel : 0,
        };
        RecordLastBackup(result);
        DeviceEngineLog.Committed(_options.Logger, result.SnapshotId, HostName, result.Files, result.Bytes, result.ChunksSent, result.WireBytesSent, problems.Count);
        _observer.Progress(new BackupProgress("done", upload.Files, scan.Files, upload.Bytes, scan.Bytes, result.WireBytesSent));
        return result;
    }

    /// <summary>Most notes of things without a storable name one backup sends (the host accepts 100).</summary>
    private const int MaxUnnamedNotes = 100;

    private void RecordLastBackup(BackupResult result)
    {
        var file = _state.LoadPartnerships();
        var current = Slot!;
        var last = new LastBackup(_options.Time.GetUtcNow().ToUnixTimeMilliseconds(), result.SnapshotId, result.SnapshotFiles, result.SnapshotBytes, result.WireBytesSent, Link)
        {
            Partial = result.Partial,
            Unchanged = result.Unchanged,
            CompressionLevel = result.HighestCompressionLevel == 0 ? null : result.HighestCompressionLevel,
            Note = result.Note,
            Problems = result.Problems.Count == 0 ? null : [.. result.Problems.Take(LastBackup.MaxProblemsKept).Select(p => p.ToString())],
        };
        var slots = file.Slots.Select(s => s.HostId == current.HostId ? s with { LastBackup = last } : s).ToList();
        _state.SavePartnerships(file with { Slots = slots });
        Slot = slots.First(s => s.HostId == current.HostId);
    }
}
