using System.Text;

namespace Cradle.Cli;

/// <summary>A systemd service unit, written the way systemd reads it (quoting, <c>%</c> specifiers, <c>$</c> expansion).</summary>
internal sealed class SystemdUnit
{
    private readonly List<(string Section, string Key, string Value)> _lines = [];
    private readonly List<string> _header = [];

    public SystemdUnit Comment(string text)
    {
        _header.Add($"# {text}");
        return this;
    }

    public SystemdUnit Add(string section, string key, string value)
    {
        if (value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{key}: a unit value is one line");
        }

        _lines.Add((section, key, value));
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var line in _header)
        {
            text.Append(line).Append('\n');
        }

        foreach (var section in _lines.Select(l => l.Section).Distinct())
        {
            text.Append('\n').Append('[').Append(section).Append("]\n");
            foreach (var (_, key, value) in _lines.Where(l => l.Section == section))
            {
                text.Append(key).Append('=').Append(value).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>A command line for ExecStart: each word quoted when it needs it, <c>%</c> and <c>$</c> taken literally.</summary>
    public static string CommandLine(IEnumerable<string> words) => string.Join(' ', words.Select(Word));

    /// <summary>One word, taken literally by systemd.</summary>
    public static string Word(string word)
    {
        var escaped = word.Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal);
        var plain = escaped.Length > 0 && escaped.All(c => char.IsAsciiLetterOrDigit(c) || "/._-:@+=,%$".Contains(c, StringComparison.Ordinal));
        return plain ? escaped : $"\"{escaped.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
    }

    /// <summary>
    /// How to start this same cradle again: the running executable (native, or an app host), or
    /// <c>dotnet cradle.dll</c> when it runs under the dotnet host.
    /// </summary>
    public static IReadOnlyList<string> ThisExecutable()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of the running executable is unknown");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Path.Combine(AppContext.BaseDirectory, "cradle.dll")]
            : [process];
    }
}
