namespace Cradle.Links.Serial;

/// <summary>
/// Consistent Overhead Byte Stuffing: turns any bytes into bytes without 0x00, at a cost of one
/// byte per 254, so that 0x00 can end every frame on the line. After a burst of noise the
/// receiver finds the next frame at the next 0x00, whatever the noise was.
/// </summary>
public static class Cobs
{
    /// <summary>The most bytes encoding <paramref name="length"/> bytes can produce (without the delimiter).</summary>
    public static int MaxEncodedLength(int length) => length + (length / 254) + 1;

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < MaxEncodedLength(source.Length))
        {
            throw new ArgumentException("the destination is too small for the encoded bytes", nameof(destination));
        }

        var codeIndex = 0;
        var write = 1;
        byte code = 1;
        foreach (var b in source)
        {
            if (b != 0)
            {
                destination[write++] = b;
                code++;
            }

            if (b == 0 || code == 0xFF)
            {
                destination[codeIndex] = code;
                codeIndex = write++;
                code = 1;
            }
        }

        destination[codeIndex] = code;
        return write;
    }

    /// <summary>
    /// Decodes one frame (without its delimiter). Returns false when the bytes are not valid
    /// COBS (a zero inside, or a block that runs past the end): noise, not a frame.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        var read = 0;
        while (read < source.Length)
        {
            int code = source[read++];
            if (code == 0 || read + code - 1 > source.Length || written + code - 1 > destination.Length)
            {
                return false;
            }

            for (var i = 1; i < code; i++)
            {
                var b = source[read++];
                if (b == 0)
                {
                    return false;
                }

                destination[written++] = b;
            }

            // A block shorter than 255 stands for a zero, except at the very end.
            if (code < 0xFF && read < source.Length)
            {
                if (written >= destination.Length)
                {
                    return false;
                }

                destination[written++] = 0;
            }
        }

        return true;
    }
}
