namespace Cradle.Protocol;

/// <summary>
/// The limits both sides of a session read: the host refuses a message past one of them, and the
/// device checks its options against them before it connects, so that a setting cannot make the
/// device send what the host will refuse.
/// </summary>
public static class WireLimits
{
    /// <summary>The hard cap on one frame's payload (<see cref="FrameCodec.MaxPayloadLength"/>).</summary>
    public const int MaxFramePayload = FrameCodec.MaxPayloadLength;

    /// <summary>Most chunk ids in one <c>ChunkQuery</c> (backup) or <c>ChunkRequest</c> (restore).</summary>
    public const int MaxQueryIds = 4096;

    /// <summary>Most entries one snapshot may hold (and so one restore offer may announce).</summary>
    public const int MaxEntriesPerSnapshot = 10_000_000;

    /// <summary>Most file entries one <c>FileEntries</c> message carries, either way.</summary>
    public const int MaxEntriesPerMessage = 1000;

    /// <summary>
    /// Chunks a session may owe the host by default (asked for, not yet sent): a device stops to
    /// read files again before it owes more.
    /// </summary>
    public const int DefaultMaxOwedPerSession = 65_536;
}
