using Cradle.Protocol;

namespace Cradle.Content;

/// <summary>What a snapshot entry is.</summary>
public enum EntryKind : byte
{
    File = 0,
    Directory = 1,
}

/// <summary>One file or folder in a snapshot. <see cref="Path"/> has passed <see cref="SnapshotPath.Check"/>.</summary>
public sealed record TreeEntry(string Path, EntryKind Kind, long Size, long MtimeUnixNs, uint Mode, ChunkId[] Chunks)
{
    /// <summary>
    /// A file that was a hard link on the device: the path of the entry in the same snapshot it
    /// shares its inode with (the first name the device's scan met). The entry still names its own
    /// chunks, so it is whole by itself; a restore makes the link again when the other entry is
    /// restored by the same run with the same chunks, and writes the content otherwise.
    /// </summary>
    public string? LinkTo { get; init; }

    public DateTime MtimeUtc => DateTime.UnixEpoch.AddTicks(MtimeUnixNs / 100);

    public static long ToUnixNs(DateTime utc) => (utc.ToUniversalTime() - DateTime.UnixEpoch).Ticks * 100;
}
