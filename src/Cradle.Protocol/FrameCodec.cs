using System.Buffers.Binary;

namespace Cradle.Protocol;

/// <summary>
/// Frames on a byte stream: a 4-byte big-endian payload length, then the payload (one
/// protobuf <c>Envelope</c>). A length above <see cref="MaxPayloadLength"/> is refused before
/// anything is allocated.
/// </summary>
public static class FrameCodec
{
    public const int HeaderLength = 4;

    /// <summary>The hard cap on one frame's payload: 4 MiB, far above the largest chunk message.</summary>
    public const int MaxPayloadLength = 4 * 1024 * 1024;

    public static void WriteHeader(Span<byte> destination, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, MaxPayloadLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)payloadLength);
    }

    /// <summary>Reads a header and checks it against the cap.</summary>
    public static int ReadHeader(ReadOnlySpan<byte> header)
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > MaxPayloadLength)
        {
            throw new CradleProtocolException($"frame of {length} bytes exceeds the {MaxPayloadLength}-byte limit");
        }

        return (int)length;
    }
}
