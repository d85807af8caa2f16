using System.Text;

namespace Cradle.Benchmarks;

/// <summary>
/// Reproducible inputs: incompressible bytes (SplitMix64, as media and encrypted files look
/// to the chunker and zstd) and log-like text (what a handheld's logs, CSV and XML look like:
/// repeated structure with varying numbers, not one repeated line).
/// </summary>
public static class BenchmarkData
{
    public static byte[] Random(ulong seed, int length)
    {
        var bytes = new byte[length];
        var state = seed;
        for (var i = 0; i < length; i += 8)
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

            for (var b = 0; b < 8 && i + b < length; b++)
            {
                bytes[i + b] = unchecked((byte)(z >> (8 * b)));
            }
        }

        return bytes;
    }

    private static readonly string[] Levels = ["INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"];
    private static readonly string[] Components = ["sync.worker", "scanner", "forms.store", "gps", "radio", "ui.shell", "db.journal"];
    private static readonly string[] Actions = ["uploaded record", "saved form", "retried request", "opened page", "flushed journal", "read sensor"];
    private static readonly string[] Objects = ["set-05", "set-04", "inspection", "delivery", "meter", "route-17", "settings"];

    public static byte[] Text(ulong seed, int length)
    {
        var random = new Random(unchecked((int)seed));
        var bytes = new byte[length];
        var line = new StringBuilder(128);
        var time = new DateTime(2024, 1, 10, 6, 0, 0, DateTimeKind.Utc);
        var written = 0;
        while (written < length)
        {
            time = time.AddMilliseconds(random.Next(1, 5000));
            line.Clear()
                .Append(time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture))
                .Append(' ').Append(Levels[random.Next(Levels.Length)])
                .Append(' ').Append(Components[random.Next(Components.Length)]).Append('[').Append(random.Next(1, 9)).Append("] ")
                .Append(Actions[random.Next(Actions.Length)]).Append(' ').Append(random.Next(100_000))
                .Append(" of ").Append(Objects[random.Next(Objects.Length)])
                .Append(" in ").Append(random.Next(1, 900)).Append(" ms\n");
            var encoded = Encoding.ASCII.GetBytes(line.ToString());
            var n = Math.Min(encoded.Length, length - written);
            encoded.AsSpan(0, n).CopyTo(bytes.AsSpan(written));
            written += n;
        }

        return bytes;
    }

    /// <summary>
    /// Pages of an SQLite-like database (4 KiB each): a page header, 800 bytes of binary columns
    /// (row ids, integers, pointers: incompressible), rows of text, then free space (zeros), the
    /// fill varying from page to page. About 3× compressible, like bench/shapes.py's databases.
    /// </summary>
    public static byte[] Database(ulong seed, int length)
    {
        var bytes = new byte[length];
        var random = new Random(unchecked((int)seed));
        var binary = Random(seed ^ 0xDB, length / 4096 * 800 + 800);
        var text = Text(seed + 1, length);
        var textAt = 0;
        for (var page = 0; page * 4096 < length; page++)
        {
            var at = page * 4096;
            var end = Math.Min(at + 4096, length);
            bytes[at] = 0x0D;
            var fill = Math.Min(end, at + 8 + 800 + random.Next(1200, 2900));
            var binaryEnd = Math.Min(fill, at + 8 + 800);
            binary.AsSpan(page * 800, Math.Max(0, binaryEnd - at - 8)).CopyTo(bytes.AsSpan(Math.Min(at + 8, end)));
            var rows = Math.Max(0, fill - binaryEnd);
            text.AsSpan(textAt, rows).CopyTo(bytes.AsSpan(binaryEnd));
            textAt = (textAt + rows) % (text.Length - 4096);
        }

        return bytes;
    }

    /// <summary>The named kind of content: "random", "text" or "database".</summary>
    public static byte[] OfKind(string kind, int length) => kind switch
    {
        "random" => Random(42, length),
        "text" => Text(42, length),
        "database" => Database(42, length),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "expected \"random\", \"text\" or \"database\""),
    };
}
