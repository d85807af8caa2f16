using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Cradle.Protocol;

/// <summary>The identity of a chunk: the SHA-256 digest of its uncompressed content.</summary>
public readonly struct ChunkId : IEquatable<ChunkId>, IComparable<ChunkId>
{
    public const int Length = 32;

    private readonly ulong _a, _b, _c, _d;

    private ChunkId(ulong a, ulong b, ulong c, ulong d) => (_a, _b, _c, _d) = (a, b, c, d);

    /// <summary>Reads an id from exactly 32 bytes; anything else is a protocol violation.</summary>
    public static ChunkId Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new CradleProtocolException($"a chunk id is {Length} bytes, got {bytes.Length}");
        }

        return new ChunkId(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    /// <summary>Hashes content into its id.</summary>
    public static ChunkId Of(ReadOnlySpan<byte> content)
    {
        Span<byte> digest = stackalloc byte[Length];
        SHA256.HashData(content, digest);
        return Read(digest);
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public bool Equals(ChunkId other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is ChunkId other && Equals(other);

    public override int GetHashCode() => unchecked((int)_a ^ (int)(_a >> 32));

    public int CompareTo(ChunkId other)
    {
        var c = _a.CompareTo(other._a);
        if (c == 0) c = _b.CompareTo(other._b);
        if (c == 0) c = _c.CompareTo(other._c);
        if (c == 0) c = _d.CompareTo(other._d);
        return c;
    }

    public static bool operator ==(ChunkId left, ChunkId right) => left.Equals(right);

    public static bool operator !=(ChunkId left, ChunkId right) => !left.Equals(right);

    public static bool operator <(ChunkId left, ChunkId right) => left.CompareTo(right) < 0;

    public static bool operator >(ChunkId left, ChunkId right) => left.CompareTo(right) > 0;

    public static bool operator <=(ChunkId left, ChunkId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(ChunkId left, ChunkId right) => left.CompareTo(right) >= 0;

    /// <summary>Lowercase hex, as it appears in logs and reports.</summary>
    public override string ToString() => Convert.ToHexStringLower(ToArray());
}
