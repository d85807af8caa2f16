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
}
