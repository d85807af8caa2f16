using System.Diagnostics;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Cradle.Store;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>
    /// Backs up the data folders: scan, then chunk what changed, ask the host which chunks it
    /// lacks, send only those (compressed), send the file list, and wait for the commit. The
    /// files cache is read alongside the scan and the next one written as the backup goes;
    /// it replaces the old one only after the host committed.
    /// </summary>
    public async Task<BackupResult> BackupAsync(CancellationToken cancellationToken)
    {
        if (IsGuest)
        {
            throw new SessionRefusedException("P3", $"this device is a guest on {HostName}: a guest cannot back up, and nothing is stored for it");
        }

        var clock = Stopwatch.StartNew();
        var wireAtStart = _wire.BytesWritten;
        var wireInAtStart = _wire.BytesRead;
        _observer.Progress(new BackupProgress("scanning", 0, 0, 0, 0, 0));
        var volatileFolder = Path.GetDirectoryName(_state.FilesCachePath)!;
        using var scan = Scanner.Scan(_identity.Folders, volatileFolder, cancellationToken);
        foreach (var skipped in scan.Skipped)
        {
            _observer.Warning($"skipped {skipped}");
        }

        var order = new ScanOrder(_identity.Folders);
        FilesCache cache;
        try
        {
            cache = FilesCache.Open(_state.FilesCachePath, order);
        }
        catch (StoreFormatException e)
        {
            _observer.Warning($"the files cache is unreadable and is rebuilt ({e.Message}); every file is read again");
            cache = FilesCache.Empty();
        }

        using var cacheInUse = cache;
        using var nextCache = new FilesCacheWriter(volatileFolder, order);
        await _channel.SendAsync(new Envelope { BackupBegin = new BackupBegin { StartedUnixMs = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(), Files = (ulong)scan.Files, Bytes = (ulong)scan.Bytes } }, cancellationToken).ConfigureAwait(false);
        var upload = new Upload(this, cache, nextCache, scan, wireAtStart);
        await upload.RunAsync(cancellationToken).ConfigureAwait(false);

        await _channel.SendAsync(new Envelope { BackupEnd = new BackupEnd { Files = (ulong)upload.Files, Bytes = (ulong)upload.Bytes } }, cancellationToken).ConfigureAwait(false);
        _observer.Progress(new BackupProgress("committing", upload.Files, scan.Files, upload.Bytes, scan.Bytes, _wire.BytesWritten - wireAtStart));
        var committed = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.BackupCommitted).BackupCommitted;

        cache.Dispose();
        // After an unchanged re-run the next cache is the same as the old one: not rewritten.
        nextCache.Save(_state.FilesCachePath, cache);
        var result = new BackupResult(committed.SnapshotId, upload.Files, upload.Bytes, upload.FilesRead, upload.BytesRead, upload.ChunksSent,
            _wire.BytesWritten - wireAtStart, _wire.BytesRead - wireInAtStart, (long)committed.NewChunks, (long)committed.StoredBytes, clock.Elapsed, upload.Skipped);
        RecordLastBackup(result);
        _observer.Progress(new BackupProgress("done", upload.Files, scan.Files, upload.Bytes, scan.Bytes, result.WireBytesSent));
        return result;
    }

    private void RecordLastBackup(BackupResult result)
    {
        var file = _state.LoadPartnerships();
        var current = Slot!;
        var slots = file.Slots.Select(s => s.HostId == current.HostId
            ? s with { LastBackup = new LastBackup(_options.Time.GetUtcNow().ToUnixTimeMilliseconds(), result.SnapshotId, result.Files, result.Bytes, result.WireBytesSent, Link) }
            : s).ToList();
        _state.SavePartnerships(file with { Slots = slots });
        Slot = slots.First(s => s.HostId == current.HostId);
    }
}
