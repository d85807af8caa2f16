#if CRADLE_DEVICE_ONLY
using Wcwidth;
#else
using Spectre.Console;
#endif

namespace Cradle.Cli;

/// <summary>
/// A table of plain text on stdout. The all-in-one draws it with Spectre.Console; cradle-device
/// carries no Spectre.Console (an eighth of its start-up and ~0.5 MB, docs/BENCHMARKS.md) and
/// draws the same square border itself, one row a line, never wrapped. Cells are padded by the
/// terminal cells their text takes, not by its UTF-16 length, so a folder named in Chinese or
/// Japanese (two cells a character) or with combining accents (none) lines up as in Spectre.
/// </summary>
internal static class ConsoleTable
{
    public static void Write(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
#if CRADLE_DEVICE_ONLY
        var all = rows.ToList();
        var widths = columns.Select((c, i) => all.Select(r => Cells(r[i])).Prepend(Cells(c)).Max()).ToArray();
        string Rule(char left, char middle, char right) =>
            left + string.Join(middle, widths.Select(w => new string('─', w + 2))) + right;
        string Row(IReadOnlyList<string> cells) =>
            "│" + string.Join("│", cells.Select((c, i) => $" {c}{new string(' ', widths[i] - Cells(c))} ")) + "│";
        var output = Console.Out;
        output.WriteLine(Rule('┌', '┬', '┐'));
        output.WriteLine(Row(columns));
        output.WriteLine(Rule('├', '┼', '┤'));
        foreach (var row in all)
        {
            output.WriteLine(Row(row));
        }

        output.WriteLine(Rule('└', '┴', '┘'));
#else
        // Program sets the width of a redirected output (whole rows for grep).
        var table = new Table().AddColumns([.. columns]);
        foreach (var row in rows)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }

        AnsiConsole.Write(table);
#endif
    }

#if CRADLE_DEVICE_ONLY
    /// <summary>Terminal cells <paramref name="text"/> takes; a control character counts as none.</summary>
    internal static int Cells(string text)
    {
        var cells = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            cells += Math.Max(0, UnicodeCalculator.GetWidth(rune));
        }

        return cells;
    }
#endif
}
