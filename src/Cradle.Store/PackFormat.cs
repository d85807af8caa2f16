using System.Buffers.Binary;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Pack file format v2 (docs/storage.md §2). A pack is a header, records, and a footer that
/// indexes the chunks so a pack can be checked, and the catalog rebuilt, from the pack alone.
/// <code>
/// header  : "CRDLPACK" | u16 version | u16 reserved | 16-byte pack id                    (28 bytes)
/// record  : u8 compression (0, 1) | u32 stored length | u32 raw length | 32-byte chunk id | data   (41 + n bytes)
/// group   : u8 2 | u32 stored length n | u32 raw length | u32 member count m
///           | m × (32-byte chunk id | u32 raw length) | n bytes: one zstd frame of the members' raw
///           bytes in table order                                          (v2 only; 13 + 36m + n bytes)
/// footer  : per chunk (32-byte id | u64 offset | u32 stored | u32 raw | u8 compression)
///           | u32 entry count | u64 footer offset | "CRDLEND1"                              (20 bytes tail)
/// </code>
/// All integers little-endian. Offsets point at a record's first byte; a group's members all
/// name the group record, with its whole length as their stored length. Version 1 packs (no
/// groups) are read as they are.
/// </summary>
internal static class PackFormat
{
    public const ushort Version = 2;
    public const ushort OldestVersion = 1;
    public const int HeaderLength = 28;
    public const int RecordHeaderLength = 41;
    public const int GroupHeaderLength = 13;
    public const int GroupMemberLength = 36;
    public const int FooterEntryLength = 49;
    public const int TailLength = 20;

    /// <summary>
    /// A group is closed once its members' raw bytes reach this: compressing 2 MiB of small
    /// chunks together instead of each 64 KiB chunk alone saved 3.4 % of the handheld set's
    /// repository (docs/BENCHMARKS.md, "Compression groups").
    /// </summary>
    public const int GroupTargetSize = 2 * 1024 * 1024;

    /// <summary>
    /// A compressed chunk this long or longer is kept in the zstd frame it arrived in, not put
    /// in a group (StoreWriter): measured on the three benchmark sets, keeping chunks from 16,
    /// 32 or 64 KiB up cost the same 0–2.5 % of repository against grouping everything (the
    /// gain of groups is in small files), and saved the host most of its second compression.
    /// </summary>
    public const int KeepAsSentFrom = 32 * 1024;

    /// <summary>
    /// Whether a chunk compressed on its own and this long is stored as its own record, not in a
    /// group: by StoreWriter (for a frame it received, once that frame passes its checks) and by
    /// prune's repack (for a record already stored so).
    /// </summary>
    public static bool StaysAlone(ChunkCompression compression, int rawLength) =>
        compression == ChunkCompression.Zstd && rawLength >= KeepAsSentFrom;

    /// <summary>Most raw bytes a group may hold: the target plus one chunk of the largest size.</summary>
    public const int GroupMaxSize = GroupTargetSize + ChunkerOptions.AbsoluteMaxSize;

    /// <summary>Most members a group may list (all of the smallest chunks allowed, 64 bytes).</summary>
    public const int GroupMaxMembers = GroupMaxSize / 64;

    /// <summary>
    /// The longest record there can be: a group of the most members with an incompressible
    /// frame (zstd's bound: the input plus 1/256 of it, plus a little).
    /// </summary>
    public const int MaxRecordLength = GroupHeaderLength + (GroupMaxMembers * GroupMemberLength) + GroupMaxSize + (GroupMaxSize >> 7) + 1024;

    public static ReadOnlySpan<byte> Magic => "CRDLPACK"u8;

    public static ReadOnlySpan<byte> EndMagic => "CRDLEND1"u8;

    public static void WriteHeader(Span<byte> destination, Guid packId)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], 0);
        packId.TryWriteBytes(destination[12..28]);
    }

    /// <summary>Checks a header; throws <see cref="StoreFormatException"/> naming what is wrong.</summary>
    public static Guid ReadHeader(ReadOnlySpan<byte> header, string packName)
    {
        if (header.Length < HeaderLength || !header[..8].SequenceEqual(Magic))
        {
            throw new StoreFormatException($"pack {packName} does not start with the pack magic: not a Cradle pack, or damaged");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        if (version is < OldestVersion or > Version)
        {
            throw new StoreFormatException($"pack {packName} has format version {version}; this build reads versions {OldestVersion} to {Version} only (upgrade Cradle to read it)");
        }

        return new Guid(header[12..28]);
    }

    public static void WriteRecordHeader(Span<byte> destination, ChunkCompression compression, int storedLength, int rawLength, ChunkId id)
    {
        destination[0] = (byte)compression;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)storedLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[5..], (uint)rawLength);
        id.WriteTo(destination[9..41]);
    }

    public static PackEntry ReadRecordHeader(ReadOnlySpan<byte> header, long offset)
    {
        var compression = (ChunkCompression)header[0];
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(header[1..]);
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(header[5..]);
        if (stored > ChunkerOptions.AbsoluteMaxSize * 2L || raw > ChunkerOptions.AbsoluteMaxSize)
        {
            throw new StoreFormatException($"record at offset {offset} claims {stored} stored / {raw} raw bytes, above the limits");
        }

        return new PackEntry(ChunkId.Read(header[9..41]), offset, (int)stored, (int)raw, compression);
    }

    public static void WriteGroupHeader(Span<byte> destination, int storedLength, int rawLength, IReadOnlyList<(ChunkId Id, int RawLength)> members)
    {
        destination[0] = (byte)ChunkCompression.ZstdGroup;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)storedLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[5..], (uint)rawLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[9..], (uint)members.Count);
        var table = destination[GroupHeaderLength..];
        foreach (var (id, length) in members)
        {
            id.WriteTo(table);
            BinaryPrimitives.WriteUInt32LittleEndian(table[32..], (uint)length);
            table = table[GroupMemberLength..];
        }
    }

    /// <summary>
    /// Reads a whole group record (<paramref name="record"/>: from its first byte to its last):
    /// its member table and where its compressed frame is. Throws <see cref="StoreFormatException"/>
    /// when the record is not a consistent group.
    /// </summary>
    public static PackGroup ReadGroup(ReadOnlySpan<byte> record, long offset)
    {
        if (record.Length < GroupHeaderLength || record[0] != (byte)ChunkCompression.ZstdGroup)
        {
            throw new StoreFormatException($"the record at offset {offset} is not a compression group");
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(record[1..]);
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(record[5..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(record[9..]);
        if (raw > GroupMaxSize || count == 0 || count > GroupMaxMembers
            || (long)GroupHeaderLength + (count * GroupMemberLength) + stored != record.Length)
        {
            throw new StoreFormatException($"the group at offset {offset} claims {count} members, {stored} stored / {raw} raw bytes: inconsistent with its {record.Length} bytes");
        }

        var ids = new ChunkId[count];
        var starts = new int[count + 1];
        var table = record[GroupHeaderLength..];
        for (var i = 0; i < count; i++)
        {
            ids[i] = ChunkId.Read(table[..32]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(table[32..]);
            if (length == 0 || length > raw - (uint)starts[i])
            {
                throw new StoreFormatException($"the group at offset {offset}: member {i} of {count} claims {length} bytes, past the group's {raw}");
            }

            starts[i + 1] = starts[i] + (int)length;
            table = table[GroupMemberLength..];
        }

        if (starts[count] != raw)
        {
            throw new StoreFormatException($"the group at offset {offset}: its members add up to {starts[count]} bytes, not its {raw}");
        }

        return new PackGroup(ids, starts, GroupHeaderLength + ((int)count * GroupMemberLength));
    }
}

/// <summary>
/// A compression group's member table: member i is <c>Ids[i]</c>, raw bytes
/// <c>Starts[i]</c>..<c>Starts[i + 1]</c> of the decompressed group; the zstd frame starts
/// <c>FrameOffset</c> bytes into the record.
/// </summary>
internal sealed record PackGroup(ChunkId[] Ids, int[] Starts, int FrameOffset)
{
    public int RawLength => Starts[^1];

    /// <summary>The member's range in the decompressed group, or null when the group does not list it.</summary>
    public Range? Find(ChunkId id)
    {
        var i = Array.IndexOf(Ids, id);
        return i < 0 ? null : Starts[i]..Starts[i + 1];
    }
}

/// <summary>
/// Where one chunk sits in a pack. For a member of a compression group, <see cref="Offset"/>
/// and <see cref="StoredLength"/> are those of the whole group record.
/// </summary>
internal readonly record struct PackEntry(ChunkId Id, long Offset, int StoredLength, int RawLength, ChunkCompression Compression)
{
    /// <summary>The offset of the chunk's data (after its record header); a group's record starts at <see cref="Offset"/>.</summary>
    public long DataOffset => Compression == ChunkCompression.ZstdGroup ? Offset : Offset + PackFormat.RecordHeaderLength;

    /// <summary>Where the record ends: a pack shorter than this has lost part of the chunk.</summary>
    public long End => DataOffset + StoredLength;
}
