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
    public DateTime MtimeUtc => DateTime.UnixEpoch.AddTicks(MtimeUnixNs / 100);

    public static long ToUnixNs(DateTime utc) => (utc.ToUniversalTime() - DateTime.UnixEpoch).Ticks * 100;
}
