using System.Text;

namespace Cradle.Protocol;

/// <summary>
/// Free text that came off the wire (a device's reason for a problem, a refusal's message) is
/// data: before a console, a log or a page shows it, control characters and unpaired surrogates
/// become '?', and it is cut to a bounded length.
/// </summary>
public static class WireText
{
    public static string Printable(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cut = text.Length > maxLength ? text[..maxLength] : text;
        var builder = new StringBuilder(cut.Length);
        for (var i = 0; i < cut.Length; i++)
        {
            var c = cut[i];
            if (char.IsHighSurrogate(c) && i + 1 < cut.Length && char.IsLowSurrogate(cut[i + 1]))
            {
                builder.Append(c).Append(cut[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append('?');
            }
            else
            {
                builder.Append(c);
            }
        }

        return text.Length > maxLength ? builder.Append('…').ToString() : builder.ToString();
    }
}
