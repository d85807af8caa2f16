using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>What a person watching a device session is told. Every method has a do-nothing default.</summary>
public interface ISessionObserver
{
    /// <summary>A new partnership waits for the host's operator, who must see the same code.</summary>
    void ApprovalCode(string hostName, string code, TimeSpan timeout) { }

    /// <summary>
    /// Asks the device's user whether to trust a new host (the same code on both screens): true
    /// yes, false no, null when there is nobody to ask (no terminal): then the partnership waits
    /// for <c>--accept-new-host CODE</c>.
    /// </summary>
    Task<bool?> ConfirmNewHostAsync(NewHost host, CancellationToken cancellationToken) => Task.FromResult<bool?>(null);

    void PartnershipCreated(PartnershipSlot slot) { }

    void Progress(BackupProgress progress) { }

    void Warning(string message) { }

    /// <summary>What the device is doing while it waits (for a cable, for a host to answer).</summary>
    void Notice(string message) { }
}

/// <summary>A host this device has not trusted before: its name, where, the code both screens show, its certificate's fingerprint; a reclaim crosses no code (its code comes from the fingerprint).</summary>
public sealed record NewHost(string Name, HostRoute Route, string Code, string Fingerprint, bool Reclaim);

/// <summary>A running backup's phase and counts.</summary>
public sealed record BackupProgress(string Phase, long FilesDone, long FilesTotal, long BytesDone, long BytesTotal, long WireBytesSent)
{
    public static BackupProgress Idle { get; } = new("idle", 0, 0, 0, 0, 0);
}

/// <summary>
/// A committed backup, as the device saw it. <c>Files</c> and <c>Bytes</c> count what the device
/// sent; <c>SnapshotFiles</c> and <c>SnapshotBytes</c> the snapshot's totals, with what the host
/// carried forward for what could not be read (<c>Problems</c>).
/// </summary>
public sealed record BackupResult(
    long SnapshotId,
    long Files,
    long Bytes,
    long FilesRead,
    long BytesRead,
    long ChunksSent,
    long WireBytesSent,
    long WireBytesReceived,
    long NewChunksStored,
    long StoredBytes,
    TimeSpan Elapsed,
    IReadOnlyList<string> Skipped)
{
    /// <summary>What could not be read (a file, a folder, a missing data folder, a name no snapshot can hold).</summary>
    public IReadOnlyList<BackupProblem> Problems { get; init; } = [];

    /// <summary>False when the host (protocol 1 or 2) could not be told what was missing: the snapshot lacks it, unmarked there.</summary>
    public bool HostKeptEarlierVersions { get; init; } = true;

    /// <summary>Entries of an earlier snapshot that stand in for what could not be read.</summary>
    public long CarriedForward { get; init; }

    /// <summary>Nothing changed: the host made no new snapshot and verified <see cref="SnapshotId"/>, the earlier one.</summary>
    public bool Unchanged { get; init; }

    /// <summary>Most files vanished since the complete snapshot before (which held <see cref="PreviousFiles"/>).</summary>
    public bool Suspect { get; init; }

    public long PreviousFiles { get; init; }

    public long SnapshotFiles { get; init; }

    public long SnapshotBytes { get; init; }

    /// <summary>
    /// The zstd level of the chunks sent last (<see cref="HighestCompressionLevel"/>: the highest
    /// the backup used): above the default when the link was slow enough that compressing harder
    /// cost nothing but idle processor time. 0 when no chunk was sent.
    /// </summary>
    public int CompressionLevel { get; init; }

    public int HighestCompressionLevel { get; init; }

    /// <summary>Something could not be read.</summary>
    public bool Partial => Problems.Count > 0;

    /// <summary>The snapshot holds no file at all.</summary>
    public bool Empty => SnapshotFiles == 0;

    /// <summary>Not a whole picture of the device's data: partial, empty or most files vanished. <c>cradle device connect --once</c> exits 6.</summary>
    public bool Incomplete => Partial || Empty || Suspect;

    /// <summary>Why the snapshot is not a whole picture, in words; null when it is.</summary>
    public string? Note
    {
        get
        {
            var notes = new List<string>();
            if (Partial)
            {
                var count = Words.Count(Problems.Count, "entry", "entries");
                notes.Add(HostKeptEarlierVersions
                    ? $"partial: {count} could not be read ({Words.Count(CarriedForward, "entry", "entries")} of earlier snapshots kept in their place)"
                    : $"partial: {count} could not be read, and the host (an older version) cannot keep earlier versions: the snapshot lacks them");
            }

            if (Empty)
            {
                notes.Add("empty: the snapshot holds no file");
            }
            else if (Suspect)
            {
                notes.Add($"most files vanished: {SnapshotFiles} now, {PreviousFiles} in the complete snapshot before");
            }

            return notes.Count == 0 ? null : string.Join("; ", notes);
        }
    }
}

/// <summary>
/// Something a backup could not read: its snapshot path (empty for a name no snapshot can
/// hold), where it is on the device, why, and whether it is a folder (everything beneath it).
/// </summary>
public sealed record BackupProblem(string Path, string FullPath, string Reason, bool Folder)
{
    public override string ToString() => Path.Length == 0 ? Reason : $"{Path}{(Folder ? "/" : "")}: {Reason}";
}
