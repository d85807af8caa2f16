using System.Globalization;

namespace Cradle.LineRelay;

/// <summary>The relay program's command line: a handful of flags, all checked before a pty opens.</summary>
internal static class LineRelayArguments
{
    public const string Usage =
        """
        usage: Cradle.LineRelay [--baud N] [--ber X] [--drop X] [--seed N] [--baud-mismatch]
          --baud N          pace the line at N baud, N/10 bytes per second each way (default 0: unpaced)
          --ber X           flip each bit in transit with probability X
          --drop X          lose each byte in transit with probability X
          --seed N          seed for the faults (default 1)
          --baud-mismatch   garble bytes while a side's termios speed differs from --baud
        Prints "device=PATH host=PATH", relays until stdin closes or SIGTERM/SIGINT, then prints counters to stderr.
        """;

    /// <exception cref="ArgumentException">An unknown flag, a missing or malformed value, or a setting out of range.</exception>
    public static LineRelayOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LineRelayOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            options = flag switch
            {
                "--baud" => options with { LineBaud = ParseInt(flag, ValueOf(args, ref i)) },
                "--ber" => options with { BitErrorRate = ParseDouble(flag, ValueOf(args, ref i)) },
                "--drop" => options with { DropRate = ParseDouble(flag, ValueOf(args, ref i)) },
                "--seed" => options with { Seed = ParseInt(flag, ValueOf(args, ref i)) },
                "--baud-mismatch" => options with { EmulateBaudMismatch = true },
                _ => throw new ArgumentException($"unknown argument '{flag}'"),
            };
        }

        options.Validate();
        return options;
    }

    private static string ValueOf(IReadOnlyList<string> args, ref int index)
    {
        if (index + 1 >= args.Count)
        {
            throw new ArgumentException($"{args[index]} needs a value");
        }

        index++;
        return args[index];
    }

    private static int ParseInt(string flag, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new ArgumentException($"{flag} takes a whole number, not '{value}'");

    private static double ParseDouble(string flag, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new ArgumentException($"{flag} takes a number such as 1e-4, not '{value}'");
}
