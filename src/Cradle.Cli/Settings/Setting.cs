using System.CommandLine;
using System.Globalization;

namespace Cradle.Cli.Settings;

/// <summary>A value given on the command line, and the flag that gave it.</summary>
internal sealed record CommandLineValue(string Flag, IReadOnlyList<string> Values);

/// <summary>
/// One setting of a long-running command: its key in <c>cradle.json</c> (under the side's section),
/// its environment variable, the flag that overrides both, its default and what values it allows.
/// Values are checked as text, so that a bad one is reported with its key and where it came from
/// before anything starts.
/// </summary>
internal sealed class Setting
{
    private readonly Func<string, bool> _isValid;
    private readonly Func<string, string> _show;

    private Setting(string key, string allowed, Func<string, bool> isValid, Func<ParseResult, CommandLineValue?> commandLine, IReadOnlyList<string> defaults, bool isList, Func<string, string>? show = null,
        Func<Microsoft.Extensions.Configuration.IConfigurationProvider, string, IReadOnlyList<string>?>? reader = null)
    {
        Reader = reader;
        _show = show ?? (v => v);
        Key = key;
        Allowed = allowed;
        _isValid = isValid;
        CommandLine = commandLine;
        Default = defaults;
        IsList = isList;
    }

    /// <summary>The key in the side's section, camelCase as the file spells it (keys match case-insensitively).</summary>
    public string Key { get; }

    /// <summary>What values are allowed, said the way an error message needs it.</summary>
    public string Allowed { get; }

    public Func<ParseResult, CommandLineValue?> CommandLine { get; }

    public IReadOnlyList<string> Default { get; }

    /// <summary>A list setting: a JSON array, <c>VAR__0</c>, <c>VAR__1</c>… or one comma-separated value.</summary>
    public bool IsList { get; }

    /// <summary>
    /// How a list whose items may be objects is read from a file or the environment (the
    /// device's <c>folders</c>: a path, or <c>{"path", "exclude"}</c>); null: plain values.
    /// Returns null when the source has no value for the key.
    /// </summary>
    public Func<Microsoft.Extensions.Configuration.IConfigurationProvider, string, IReadOnlyList<string>?>? Reader { get; }

    public bool IsValid(string value) => _isValid(value);

    /// <summary>The value as messages and <c>cradle host config</c> may show it (a password replaced by ***).</summary>
    public string Show(string value) => _show(value);

    /// <summary>A setting with one value, given by one option.</summary>
    public static Setting Single(string key, Option option, string allowed, Func<string, bool> isValid, string? defaultValue, Func<string, string>? show = null) =>
        new(key, allowed, isValid, r => FromOption(r, option), defaultValue is null ? [] : [defaultValue], isList: false, show);

    /// <summary>A list setting, given by a repeatable option.</summary>
    public static Setting List(string key, Option<string[]> option, string allowed, Func<string, bool> isValid) =>
        new(key, allowed, isValid, r => FromOption(r, option), [], isList: true);

    /// <summary>
    /// A list setting with no flag, from the file or the environment only; with <paramref name="reader"/>,
    /// items the file may give as objects, read into one text each.
    /// </summary>
    public static Setting FileList(string key, string allowed, Func<string, bool> isValid, Func<string, string>? show = null,
        Func<Microsoft.Extensions.Configuration.IConfigurationProvider, string, IReadOnlyList<string>?>? reader = null) =>
        new(key, allowed, isValid, _ => null, [], isList: true, show, reader);

    /// <summary>A setting whose command-line value comes from several flags (--verbose / --quiet for the log level).</summary>
    public static Setting Custom(string key, string allowed, Func<string, bool> isValid, Func<ParseResult, CommandLineValue?> commandLine, string defaultValue) =>
        new(key, allowed, isValid, commandLine, [defaultValue], isList: false);

    /// <summary>The value an option was explicitly given, as text; null when it was not on the command line.</summary>
    public static CommandLineValue? FromOption(ParseResult result, Option option)
    {
        if (result.GetResult(option) is not { Implicit: false })
        {
            return null;
        }

        IReadOnlyList<string> values = option switch
        {
            Option<bool> flag => [result.GetValue(flag) ? "true" : "false"],
            Option<double> number => [result.GetValue(number).ToString("R", CultureInfo.InvariantCulture)],
            Option<int> integer => [result.GetValue(integer).ToString(CultureInfo.InvariantCulture)],
            Option<string[]> list => result.GetValue(list) ?? [],
            Option<string> text => result.GetValue(text) is { } s ? [s] : [],
            _ => throw new InvalidOperationException($"{option.Name}: no text form for {option.ValueType}"),
        };
        return new CommandLineValue(option.Name, values);
    }

    // The checks the settings share; each pairs with an Allowed text that says the same in words.
    public static bool IsBool(string value) => bool.TryParse(value, out _);

    public static bool ParseBool(string value) => bool.Parse(value);

    public static Func<string, bool> IsNumber(double min, double max) =>
        v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= min && d <= max;

    public static double ParseNumber(string value) => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static Func<string, bool> IsInteger(long min, long max) =>
        v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max;

    public static long ParseInteger(string value) => long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);

    public static bool IsText(string value) => !string.IsNullOrWhiteSpace(value);

    /// <summary>True when <paramref name="parse"/> accepts the value (parsers throw ArgumentException on bad input).</summary>
    public static Func<string, bool> Parses(Action<string> parse) => v =>
    {
        try
        {
            parse(v);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (FormatException)
        {
            return false;
        }
    };
}
