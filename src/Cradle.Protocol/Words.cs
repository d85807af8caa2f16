using System.Globalization;

namespace Cradle.Protocol;

/// <summary>Counts in words, as every message a person reads shows them: "1 file", "2 files".</summary>
public static class Words
{
    /// <summary>The count and its noun, singular for exactly one (<paramref name="plural"/>: when it is not the noun and an s).</summary>
    public static string Count(long n, string noun, string? plural = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{n} {(n == 1 ? noun : plural ?? noun + "s")}");
}
