namespace Cradle.Cli;

/// <summary>
/// Before a command removes something: with <c>--yes</c>, go ahead; on a terminal, ask; with
/// no terminal to ask on (a script, a pipe), refuse and say how to confirm. What will be removed
/// has been printed before the question, so whoever answers (or adds --yes) knows what it is.
/// </summary>
internal static class Confirmation
{
    /// <summary>Null: go ahead. Otherwise the exit code to stop with: 2 without a terminal and without --yes, 1 when the answer was no.</summary>
    public static int? Ask(bool yes, string question, string again)
    {
        if (yes)
        {
            return null;
        }

        if (Console.IsInputRedirected)
        {
            return CliErrors.Write(ExitCodes.Usage, "usage", "error", $"nothing changed: there is no terminal to ask on; to go ahead, run '{again} --yes'");
        }

        Console.Error.Write($"{question} [y/N] ");
        var answer = Console.ReadLine()?.Trim();
        if (answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        Console.Error.WriteLine("nothing changed");
        return ExitCodes.Failed;
    }
}
