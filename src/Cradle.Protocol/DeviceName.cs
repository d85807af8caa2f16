using System.Diagnostics.CodeAnalysis;

namespace Cradle.Protocol;

/// <summary>
/// A device's unique computer name (rule P1): 1–15 characters, ASCII letters, digits, '-' and '_',
/// starting with a letter; compared case-insensitively. '_' is admitted because Windows CE names carry
/// it (the Windows Mobile default is <c>Pocket_PC</c>) and an ActiveSync device's name is read as it is.
/// </summary>
public readonly record struct DeviceName
{
    public const int MaxLength = 15;

    private DeviceName(string value) => Value = value;

    /// <summary>The name as the device spelled it.</summary>
    public string Value { get; }

    /// <summary>The form used for comparison and as a database key.</summary>
    public string Key => Value.ToUpperInvariant();

    public bool Equals(DeviceName other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Value ?? string.Empty);

    public override string ToString() => Value;

    /// <summary>Parses a name, or throws <see cref="ArgumentException"/> naming what P1 forbids.</summary>
    public static DeviceName Parse(string? text)
    {
        if (TryParse(text, out var name, out var reason))
        {
            return name;
        }

        throw new ArgumentException(reason, nameof(text));
    }

    public static bool TryParse(string? text, out DeviceName name, [NotNullWhen(false)] out string? reason)
    {
        name = default;
        reason = Check(text);
        if (reason is not null)
        {
            return false;
        }

        name = new DeviceName(text!);
        return true;
    }

    private static string? Check(string? text)
    {
        const string rule = "device names are 1-15 characters: ASCII letters, digits, '-' and '_', starting with a letter";
        if (string.IsNullOrEmpty(text))
        {
            return $"the device name is empty; {rule}";
        }

        var shown = text.Length > 40 ? text[..40] + "..." : text;
        if (text.Length > MaxLength)
        {
            return $"the device name '{Printable(shown)}' has {text.Length} characters; {rule}";
        }

        if (!char.IsAsciiLetter(text[0]))
        {
            return $"the device name '{Printable(shown)}' does not start with a letter; {rule}";
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return $"the device name '{Printable(shown)}' contains '{Printable(c.ToString())}'; {rule}";
            }
        }

        return null;
    }

    private static string Printable(string s) =>
        string.Concat(s.Select(c => char.IsControl(c) || c > '~' ? $"\\u{(int)c:x4}" : c.ToString()));
}
