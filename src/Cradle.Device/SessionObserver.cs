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

/// <summary>A committed backup, as the device saw it.</summary>
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
    IReadOnlyList<string> Skipped);
