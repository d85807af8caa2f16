namespace Cradle.Tests;

/// <summary>
/// Reproducible pseudo-random bytes (SplitMix64), independent of the runtime's
/// <see cref="Random"/> so that golden values stay valid on every .NET version.
/// </summary>
public static class TestData
{
    public static byte[] Bytes(ulong seed, int length)
    {
        var bytes = new byte[length];
        Fill(seed, bytes);
        return bytes;
    }

    public static void Fill(ulong seed, Span<byte> destination)
    {
        var state = seed;
        for (var i = 0; i < destination.Length; i += 8)
        {
            // The project checks arithmetic overflow; this mixing relies on wrap-around.
            ulong z;
            unchecked
            {
                state += 0x9E3779B97F4A7C15UL;
                z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
            }

            for (var b = 0; b < 8 && i + b < destination.Length; b++)
            {
                destination[i + b] = unchecked((byte)(z >> (8 * b)));
            }
        }
    }

    /// <summary>Text-like, highly compressible bytes.</summary>
    public static byte[] Text(int length)
    {
        var line = "The quick brown fox jumps over the lazy dog; Cradle keeps every version.\n"u8;
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = line[i % line.Length];
        }

        return bytes;
    }

    /// <summary>
    /// A small log file like those of a handheld: lines from the same set of messages as every
    /// other log (so a group of them compresses better than each alone), in an order of its own.
    /// </summary>
    public static byte[] Log(int seed, int length)
    {
        string[] words = ["scanner", "battery", "docked", "session", "upload", "pending", "order", "picked", "location", "aisle", "shelf", "quantity", "reader", "timeout", "retry", "network", "signal", "printer", "label", "confirmed"];
        var text = new System.Text.StringBuilder();
        for (var line = 0; text.Length < length; line++)
        {
            var message = ((seed * 31) + (line * 17)) % 64;
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"2024-01-{1 + (seed % 28):D2} {line / 60 % 24:D2}:{line % 60:D2} [{message:D2}]");
            for (var w = 0; w < 9; w++)
            {
                text.Append(' ').Append(words[((message * 7) + (w * message) + w) % words.Length]).Append(message % (w + 2) == 0 ? "," : "");
            }

            text.Append('\n');
        }

        return System.Text.Encoding.ASCII.GetBytes(text.ToString(0, length));
    }
}
