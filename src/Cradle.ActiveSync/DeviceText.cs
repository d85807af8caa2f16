using System.Text;

namespace Cradle.ActiveSync;

/// <summary>
/// Strings that came off the device are data: before a message, a log line or a page shows one,
/// its control characters and odd code points are escaped and its length is bounded.
/// </summary>
public static class DeviceText
{
    private const int MaxShown = 200;

    public static string Printable(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxShown) + 8);
        foreach (var c in text.Length > MaxShown ? text.AsSpan(0, MaxShown) : text.AsSpan())
        {
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029' or '\u202E' or '\uFEFF')
            {
                builder.Append($"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (text.Length > MaxShown)
        {
            builder.Append("...");
        }

        return builder.ToString();
    }
}
