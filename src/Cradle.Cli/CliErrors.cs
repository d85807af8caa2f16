namespace Cradle.Cli;

/// <summary>An error as <c>--json</c> commands print it on stderr: the message, the exit code, its kind, and the rule of a refusal.</summary>
internal sealed record ErrorRow(string Error, int ExitCode, string Kind, string? Rule = null, string? Hint = null);

/// <summary>
/// Where errors go: one line on stderr in words (<c>error: …</c>), or, when the command was
/// asked for <c>--json</c>, one JSON object on stderr, so a script never parses prose.
/// </summary>
internal static class CliErrors
{
    /// <summary>True when the command line asked for JSON (set once, before the command runs).</summary>
    public static bool Json { get; set; }

    /// <summary>Writes an error; <paramref name="prefix"/> is how it starts in words ("error", "refused", "link failed"…).</summary>
    public static int Write(int exitCode, string kind, string prefix, string message, string? rule = null, string? hint = null)
    {
        // Messages can carry the other side's words (refusals, link and protocol errors).
        message = Protocol.WireText.Clean(message);
        rule = rule is null ? null : Protocol.WireText.Clean(rule);
        if (Json)
        {
            Console.Error.WriteLine(CliJson.Serialize(new ErrorRow(message, exitCode, kind, rule, hint), CliJson.Default.ErrorRow));
        }
        else
        {
            Console.Error.WriteLine($"{prefix}: {message}");
            if (hint is not null)
            {
                Console.Error.WriteLine(hint);
            }
        }

        return exitCode;
    }
}
