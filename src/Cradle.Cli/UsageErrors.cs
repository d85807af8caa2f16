using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Cradle.Cli;

/// <summary>
/// A command line that does not parse: one short message that names what is wrong, a "did you
/// mean" when a known name is close to what was typed, and where the full help is; exit code 2.
/// (System.CommandLine's own answer is the whole help page and exit code 1.)
/// </summary>
internal static partial class UsageErrors
{
    /// <summary>Options that were renamed: the old spelling gets the new one as its hint.</summary>
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["cradle host get-connected --listen"] = "--wait",
    };

    public static int Report(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var path = CommandPath(parse.CommandResult);
        var (message, suggestion) = Describe(parse, command, path);
        var hint = (suggestion is null ? "" : $"did you mean '{suggestion}'? ") + $"run '{path} --help' for its usage";
        return CliErrors.Write(ExitCodes.Usage, "usage", "error", message, hint: hint);
    }

    private static (string Message, string? Suggestion) Describe(ParseResult parse, Command command, string path)
    {
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            if (token.StartsWith('-'))
            {
                var name = token.Split('=', 2)[0];
                if (Renamed.TryGetValue($"{path} {name}", out var renamed))
                {
                    return ($"'{path}' has no option {name} any more: it is {renamed} now", renamed);
                }

                return ($"'{path}' has no option {name}", Closest(name, command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Append(o.Name))));
            }

            if (command.Subcommands.Count > 0)
            {
                return ($"'{path}' has no command '{token}'", Closest(token, command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name)));
            }

            return ($"'{path}' takes no {(command.Arguments.Count == 0 ? "argument" : "more arguments")}; '{token}' is one too many", null);
        }

        var error = parse.Errors[0].Message;
        if (error.StartsWith("Required command was not provided", StringComparison.Ordinal))
        {
            return ($"'{path}' needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}", null);
        }

        if (RequiredOption().Match(error) is { Success: true } required)
        {
            return ($"'{path}' needs {Shown(command, required.Groups[1].Value)}", null);
        }

        if (MissingValue().Match(error) is { Success: true } missing)
        {
            return ($"{missing.Groups[1].Value} needs a value: {Shown(command, missing.Groups[1].Value)}", null);
        }

        if (MissingArgument().Match(error) is { Success: true })
        {
            return ($"'{path}' needs {string.Join(" ", command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0).Select(a => a.Name))}", null);
        }

        if (BadValue().Match(error) is { Success: true } bad)
        {
            return ($"{bad.Groups[2].Value} '{bad.Groups[1].Value}': give {TypeInWords(bad.Groups[3].Value)}", null);
        }

        return (error.TrimEnd('.'), null);
    }

    /// <summary>An option as its help shows it: <c>--to DIR</c>.</summary>
    private static string Shown(Command command, string name)
    {
        var option = command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
        return option?.HelpName is { } value ? $"{name} {value}" : name;
    }

    private static string TypeInWords(string type) => type switch
    {
        _ when type.Contains("Int", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("Double", StringComparison.Ordinal) => "a number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ => "a value of the right kind",
    };

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = c.Parent)
        {
            names.Add(c.Command is RootCommand ? CradleCommand.ExecutableName : c.Command.Name);
        }

        names.Reverse();
        return string.Join(" ", names);
    }

    /// <summary>The known name nearest to what was typed, when it is near enough to be a typo (or what was typed starts it).</summary>
    internal static string? Closest(string typed, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in known.Distinct(StringComparer.Ordinal))
        {
            var distance = name.StartsWith(typed, StringComparison.OrdinalIgnoreCase) && typed.TrimStart('-').Length >= 2 ? 1 : Distance(typed, name);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (name, distance);
            }
        }

        return best is not null && bestDistance <= Math.Max(2, typed.Length / 3) ? best : null;
    }

    /// <summary>Edit distance with transpositions (optimal string alignment), case-insensitive.</summary>
    private static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    [GeneratedRegex(@"^Option '(.+)' is required")]
    private static partial Regex RequiredOption();

    [GeneratedRegex(@"^Required argument missing for option: '(.+)'")]
    private static partial Regex MissingValue();

    [GeneratedRegex(@"^Required argument missing for command")]
    private static partial Regex MissingArgument();

    [GeneratedRegex(@"^Cannot parse argument '(.*)' for option '(.+)' as expected type '(.+)'")]
    private static partial Regex BadValue();
}
