using System.Globalization;

namespace Cradle.Cli;

/// <summary>How sizes, times, counts and rates read on screen.</summary>
internal static class Format
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    /// <summary>A time in the machine's zone, with the zone's offset: a table read in another zone (or a journal) is not off by hours.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture) : "never";

    public static string Seconds(TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.00} s");

    /// <summary>A count with its noun: "1 file", "2 files", "0 entries" (<paramref name="plural"/> when it is not the noun and an s).</summary>
    public static string Count(long n, string noun, string? plural = null) => Protocol.Words.Count(n, noun, plural);

    /// <summary>A note about a flagged snapshot with its flag in capitals, to stand out in a line: "PARTIAL: 2 entries could not be read".</summary>
    public static string Flag(string note)
    {
        var colon = note.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? note : note[..colon].ToUpperInvariant() + note[colon..];
    }

    /// <summary>A number as tables show it (no grouping, invariant).</summary>
    public static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>A rate in bytes per second.</summary>
    public static string Rate(double bytesPerSecond) => Bytes((long)Math.Round(bytesPerSecond)) + "/s";
}
