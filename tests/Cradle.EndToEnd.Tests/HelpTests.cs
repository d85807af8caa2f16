using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>The help teaches: every command explains itself with an example; the root in the seed manual's words.</summary>
public sealed partial class HelpTests
{
    [Fact]
    public async Task Every_command_help_ends_with_an_example_of_itself()
    {
        var seen = new List<string>();
        var pending = new Queue<string[]>([[]]);
        while (pending.TryDequeue(out var path))
        {
            var help = await CradleProcess.RunAsync([.. path, "--help"]);
            var name = string.Join(' ', ["cradle", .. path]);
            Assert.True(help.ExitCode == 0, $"{name} --help: {help}");
            var examples = help.Stdout[(help.Stdout.LastIndexOf("Example", StringComparison.Ordinal) is var at and >= 0 ? at : throw new Xunit.Sdk.XunitException($"{name} --help has no example:\n{help.Stdout}"))..];
            Assert.Contains($"  {name}", examples.Replace("sudo ", "", StringComparison.Ordinal).Replace("CRADLE_HOST__LISTEN=0.0.0.0:5679 ", "", StringComparison.Ordinal));
            // Rule numbers are for the docs and the logs; a person reads the rule in words.
            Assert.DoesNotMatch(RuleNumber(), help.Stdout);
            seen.Add(name);
            foreach (var sub in Subcommands(help.Stdout))
            {
                pending.Enqueue([.. path, sub]);
            }
        }

        // The walk found the whole tree, not just the root.
        Assert.Contains("cradle host run", seen);
        Assert.Contains("cradle host install-service", seen);
        Assert.Contains("cradle device config", seen);
        Assert.True(seen.Count >= 28, string.Join(", ", seen));
    }

    [Fact]
    public async Task Each_option_shows_only_where_it_applies()
    {
        var approve = (await CradleProcess.RunAsync("host", "approve", "--help")).Stdout;
        var devices = (await CradleProcess.RunAsync("host", "devices", "--help")).Stdout;
        var check = (await CradleProcess.RunAsync("host", "check", "--help")).Stdout;
        var scan = (await CradleProcess.RunAsync("host", "get-connected", "--help")).Stdout;

        Assert.DoesNotContain("--packs", approve, StringComparison.Ordinal);
        Assert.DoesNotContain("--catalog", approve, StringComparison.Ordinal);
        Assert.DoesNotContain("--packs", devices, StringComparison.Ordinal);
        Assert.Contains("--catalog", devices, StringComparison.Ordinal);
        Assert.Contains("--packs", check, StringComparison.Ordinal);
        Assert.Contains("--wait <SECONDS>", scan, StringComparison.Ordinal);
        Assert.DoesNotContain("--listen", scan, StringComparison.Ordinal);

        // An optional argument reads the same in the parent's list and in the usage line.
        var host = (await CradleProcess.RunAsync("host", "--help")).Stdout;
        Assert.Contains("  snapshots [<DEVICE>]", host, StringComparison.Ordinal);
        Assert.Contains("cradle host snapshots [<DEVICE>] [options]", (await CradleProcess.RunAsync("host", "snapshots", "--help")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_root_help_speaks_the_seed_manuals_words_and_lists_the_exit_codes()
    {
        var help = (await CradleProcess.RunAsync("--help")).Stdout;

        foreach (var word in new[] { "Connect:", "Disconnect:", "Partnership:", "Cold boot:", "Get Connected", "Exit codes: 0 done; 1 failed", "2 bad usage", "3 refused", "4 the", "5 the host's store is damaged", "6 a backup was committed but is not whole", "CRADLE_HOST__" })
        {
            Assert.Contains(word, help);
        }
    }

    [Fact]
    public async Task The_suggest_directive_completes_commands_and_options()
    {
        var commands = await CradleProcess.RunAsync("[suggest:19]", "cradle device conn");
        var options = await CradleProcess.RunAsync("[suggest:23]", "cradle host run --list");

        Assert.Contains("connect", commands.Stdout.Split('\n').Select(l => l.Trim()));
        Assert.Contains("--listen", options.Stdout.Split('\n').Select(l => l.Trim()));
        Assert.Contains("--log-file", options.Stdout.Split('\n').Select(l => l.Trim()));
    }

    private static IEnumerable<string> Subcommands(string help)
    {
        var at = help.IndexOf("\nCommands:\n", StringComparison.Ordinal);
        if (at < 0)
        {
            return [];
        }

        var section = help[(at + "\nCommands:\n".Length)..];
        var end = section.IndexOf("\n\n", StringComparison.Ordinal);
        return CommandLine().Matches(end < 0 ? section : section[..end]).Select(m => m.Groups[1].Value).ToList();
    }

    [GeneratedRegex(@"\bP[1-9]\b")]
    private static partial Regex RuleNumber();

    [GeneratedRegex(@"^  ([a-z][a-z-]*)(?: \[?<[A-Z]+>\]?)?\s{2,}", RegexOptions.Multiline)]
    private static partial Regex CommandLine();
}
