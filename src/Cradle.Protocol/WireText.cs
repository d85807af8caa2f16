using System.Globalization;
using System.Text;

namespace Cradle.Protocol;

/// <summary>
/// The one sanitiser for text that came off the wire (a device's goodbye, model or software; a
/// host's name, refusal, grounds; any message built from them) before a console, a log file, the
/// journal, JSON or the dashboard shows it. Control characters (C0, DEL, C1), the Unicode
/// direction and line controls that reorder or break what a reader sees (U+061C, U+200E/F,
/// U+2028/9, U+202A–E, U+2066–9) and unpaired surrogates are shown escaped (<c>\x1b</c>,
/// <c>\r</c>, <c>\u202e</c>), so a peer cannot colour, retitle, clear or overwrite a terminal line
/// or forge a log line; the text is cut at <see cref="MaxLength"/> characters so that one message
/// cannot flood a log. Ordinary text, including every other non-ASCII letter, passes unchanged.
/// </summary>
public static class WireText
{
    /// <summary>Most characters of one string shown; the rest is counted, not shown.</summary>
    public const int MaxLength = 2048;

    /// <summary>The text as it may be shown: never null, no control character, at most <see cref="MaxLength"/> characters plus a note.</summary>
    public static string Clean(string? text) => CleanAtMost(text, MaxLength);

    /// <summary>
    /// As <see cref="Clean"/>, cut at <paramref name="maxLength"/> characters (a name in a
    /// one-line message). A name of its own, not an overload: <c>Select(WireText.Clean)</c> must
    /// never bind the element's index as the length.
    /// </summary>
    public static string CleanAtMost(string? text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        if (text.Length <= maxLength && !NeedsEscape(text))
        {
            return text;
        }

        var shown = Math.Min(text.Length, maxLength);
        var builder = new StringBuilder(shown + 16);
        for (var i = 0; i < shown; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[i + 1]);
                i++;
            }
            else if (IsUnsafe(c))
            {
                AppendEscaped(builder, c);
            }
            else
            {
                builder.Append(c);
            }
        }

        if (text.Length > shown)
        {
            builder.Append(CultureInfo.InvariantCulture, $"… ({text.Length - shown} more characters)");
        }

        return builder.ToString();
    }

    /// <summary>True when <paramref name="text"/> holds a character <see cref="Clean"/> would escape.</summary>
    public static bool NeedsEscape(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (IsUnsafe(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A character a terminal or a reader would act on rather than show (a lone surrogate included).</summary>
    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || c is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    private static void AppendEscaped(StringBuilder builder, char c)
    {
        switch (c)
        {
            case '\n':
                builder.Append("\\n");
                break;
            case '\r':
                builder.Append("\\r");
                break;
            case '\t':
                builder.Append("\\t");
                break;
            case < '\u0100':
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                break;
            default:
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                break;
        }
    }
}
