using System.Buffers.Binary;
using System.IO.Hashing;

namespace Cradle.Links.Serial;

/// <summary>What a frame on the serial line is for.</summary>
public enum LinkFrameKind : byte
{
    /// <summary>The device offers a session (repeated until a host answers).</summary>
    Offer = 1,

    /// <summary>The host takes the offered session.</summary>
    Answer = 2,

    /// <summary>Bytes of the session, numbered.</summary>
    Data = 3,

    /// <summary>Acknowledgement only.</summary>
    Ack = 4,

    /// <summary>The sender has no more bytes (numbered like data, so it arrives in order).</summary>
    Close = 5,

    /// <summary>"I have no such session": the peer's session is over.</summary>
    Reset = 6,
}

/// <summary>
/// One frame of the serial link layer, before COBS:
/// <c>kind u8 | session u16 | seq u16 | ack u16 | sack u32 | payload | crc32 u32</c>, integers
/// little-endian, the CRC-32 (IEEE) over everything before it. <c>ack</c> is the next sequence
/// number the sender expects; bit i of <c>sack</c> says it already holds <c>ack + 1 + i</c>.
/// </summary>
public readonly record struct LinkFrame(LinkFrameKind Kind, ushort Session, ushort Seq, ushort Ack, uint Sack, ReadOnlyMemory<byte> Payload)
{
    public const int HeaderLength = 11;
    public const int CrcLength = 4;

    /// <summary>The largest payload one frame carries: small enough that a noisy line loses little per error.</summary>
    public const int MaxPayload = 2048;

    /// <summary>The longest a frame can be on the line, delimiter included.</summary>
    public static readonly int MaxEncodedLength = Cobs.MaxEncodedLength(HeaderLength + MaxPayload + CrcLength) + 1;

    /// <summary>Writes the frame, COBS-encoded and delimited, into <paramref name="destination"/>; returns its length.</summary>
    public int Encode(Span<byte> destination)
    {
        if (Payload.Length > MaxPayload)
        {
            throw new ArgumentException($"a frame carries at most {MaxPayload} bytes", nameof(destination));
        }

        Span<byte> raw = stackalloc byte[HeaderLength + MaxPayload + CrcLength];
        raw[0] = (byte)Kind;
        BinaryPrimitives.WriteUInt16LittleEndian(raw[1..], Session);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[3..], Seq);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[5..], Ack);
        BinaryPrimitives.WriteUInt32LittleEndian(raw[7..], Sack);
        Payload.Span.CopyTo(raw[HeaderLength..]);
        var body = HeaderLength + Payload.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(raw[body..], Crc32.HashToUInt32(raw[..body]));
        var n = Cobs.Encode(raw[..(body + CrcLength)], destination);
        destination[n] = 0;
        return n + 1;
    }

    /// <summary>
    /// Parses one frame from its COBS bytes (delimiter removed). False for anything that is not
    /// a whole, intact frame: bad COBS, too short or long, a wrong CRC or an unknown kind.
    /// The payload is copied, so <paramref name="encoded"/> may be reused.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, out LinkFrame frame)
    {
        frame = default;
        Span<byte> raw = stackalloc byte[HeaderLength + MaxPayload + CrcLength];
        if (encoded.Length > MaxEncodedLength || !Cobs.TryDecode(encoded, raw, out var length) || length < HeaderLength + CrcLength)
        {
            return false;
        }

        var body = length - CrcLength;
        if (BinaryPrimitives.ReadUInt32LittleEndian(raw[body..]) != Crc32.HashToUInt32(raw[..body]))
        {
            return false;
        }

        var kind = (LinkFrameKind)raw[0];
        if (kind is < LinkFrameKind.Offer or > LinkFrameKind.Reset)
        {
            return false;
        }

        frame = new LinkFrame(
            kind,
            BinaryPrimitives.ReadUInt16LittleEndian(raw[1..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[3..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[5..]),
            BinaryPrimitives.ReadUInt32LittleEndian(raw[7..]),
            raw[HeaderLength..body].ToArray());
        return true;
    }
}
