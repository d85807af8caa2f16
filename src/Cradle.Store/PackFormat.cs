using System.Buffers.Binary;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Pack file format v1 (docs/storage.md). A pack is a header, chunk records, and a footer
/// that indexes the records so a pack can be checked, and the catalog rebuilt, from the pack
/// alone.
/// <code>
/// header  : "CRDLPACK" | u16 version | u16 reserved | 16-byte pack id                    (28 bytes)
/// record  : u8 compression | u32 stored length | u32 raw length | 32-byte chunk id | data  (41 + n bytes)
/// footer  : per record (32-byte id | u64 offset | u32 stored | u32 raw | u8 compression)
///           | u32 record count | u64 footer offset | "CRDLEND1"                             (20 bytes tail)
/// </code>
/// All integers little-endian. Offsets point at a record's first byte.
/// </summary>
public static class PackFormat
{
    public const ushort Version = 1;
    public const int HeaderLength = 28;
    public const int RecordHeaderLength = 41;
    public const int FooterEntryLength = 49;
    public const int TailLength = 20;

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
        if (version != Version)
        {
            throw new StoreFormatException($"pack {packName} has format version {version}; this build reads version {Version} only (upgrade Cradle to read it)");
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
}

/// <summary>Where one chunk sits in a pack.</summary>
public readonly record struct PackEntry(ChunkId Id, long Offset, int StoredLength, int RawLength, ChunkCompression Compression)
{
    /// <summary>The offset of the chunk's data (after its record header).</summary>
    public long DataOffset => Offset + PackFormat.RecordHeaderLength;
}

/// <summary>A store file (pack, catalog) is of an unknown version or damaged.</summary>
public sealed class StoreFormatException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);
