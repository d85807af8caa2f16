using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Cradle.Cli;

/// <summary>
/// An example for every command's help, kept in one table so that the command files stay about
/// what the commands do. <see cref="Apply"/> refuses a tree with a command that has none.
/// </summary>
internal static class HelpExamples
{
    private static readonly Dictionary<string, string[]> Examples = new(StringComparer.Ordinal)
    {
        ["cradle"] = ["cradle demo", "cradle host run --data /srv/cradle", "cradle device connect --usb usb0"],
        ["cradle host"] = ["cradle host run --data /srv/cradle", "cradle host devices"],
        ["cradle host run"] = ["cradle host run --data /srv/cradle --serial /dev/ttyS0 --usb usb0 --http 0.0.0.0:5680", "CRADLE_HOST__LISTEN=0.0.0.0:5679 cradle host run   (or \"listen\" in /srv/cradle/cradle.json)"],
        ["cradle host config"] = ["cradle host config --data /srv/cradle", "cradle host config --json --listen 127.0.0.1:5679"],
        ["cradle host install-service"] = ["sudo cradle host install-service --data /srv/cradle --user cradle", "cradle host install-service --print"],
        ["cradle host devices"] = ["cradle host devices --json"],
        ["cradle host snapshots"] = ["cradle host snapshots MX7-01"],
        ["cradle host restore"] = ["cradle host restore MX7-01 --to ./mx7-files", "cradle host restore MX7-01 --snapshot 12 --to ./mx7-files --dry-run", "cradle host restore MX7-01 --to ./mx7-files --overwrite"],
        ["cradle host forget"] = ["cradle host forget MX7-01 --keep-backups"],
        ["cradle host allow-restore"] = ["cradle host allow-restore MX7-01 --to MX7-01   (the same device after a cold boot)", "cradle host allow-restore MX7-01 --to MX7-02 --expires 30"],
        ["cradle host check"] = ["cradle host check --read-data"],
        ["cradle host prune"] = ["cradle host prune --keep-last 10 --keep-daily 7 --dry-run"],
        ["cradle host get-connected"] = ["cradle host get-connected --port /dev/ttyS0 --port /dev/ttyUSB0"],
        ["cradle host pending"] = ["cradle host pending"],
        ["cradle host approve"] = ["cradle host approve 482913"],
        ["cradle host deny"] = ["cradle host deny 482913"],
        ["cradle host http-token"] = ["cradle host http-token --data /srv/cradle", "cradle host http-token --rotate   (the old token stops working at once)"],
        ["cradle device"] = ["cradle device init --name MX7-01 --folder /data/scans", "cradle device connect --usb usb0"],
        ["cradle device init"] = ["cradle device init --name MX7-01 --folder /data/scans --folder /data/forms"],
        ["cradle device name"] = ["cradle device name", "cradle device name MX7-02 --yes"],
        ["cradle device partnerships"] = ["cradle device partnerships --json"],
        ["cradle device connect"] = ["cradle device connect --host depot-pc:5679 --once", "cradle device connect --serial /dev/ttyS1 --baud 115200", "cradle device connect --usb usb0"],
        ["cradle device config"] = ["cradle device config --state /var/lib/cradle", "cradle device config --json --usb usb0"],
        ["cradle device install-service"] = ["sudo cradle device install-service --usb usb0", "cradle device install-service --serial /dev/ttyS1 --print"],
        ["cradle device restore"] = ["cradle device restore --host depot-pc:5679", "cradle device restore --usb usb0 --path 'scans/**/*.csv'"],
        ["cradle device disconnect"] = ["cradle device disconnect"],
        ["cradle device status"] = ["cradle device status --json"],
        ["cradle device cold-boot"] = ["cradle device cold-boot"],
        ["cradle demo"] = ["cradle demo --folder ./cradle-demo"],
    };

    /// <summary>
    /// Makes <c>--help</c> end with the command's examples (after System.CommandLine's own help, so
    /// that a parent's list of subcommands stays one line each).
    /// </summary>
    public static void Apply(RootCommand root)
    {
        var byCommand = new Dictionary<Command, string[]>();
        Collect(root, "cradle", byCommand);
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new ExamplesHelpAction((HelpAction)help.Action!, byCommand);
    }

    private static void Collect(Command command, string path, Dictionary<Command, string[]> byCommand)
    {
        byCommand[command] = Examples.TryGetValue(path, out var lines)
            ? lines
            : throw new InvalidOperationException($"'{path}' has no example in its help (HelpExamples)");
        foreach (var sub in command.Subcommands)
        {
            Collect(sub, $"{path} {sub.Name}", byCommand);
        }
    }

    private sealed class ExamplesHelpAction(HelpAction help, Dictionary<Command, string[]> examples) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var code = help.Invoke(parseResult);
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine(lines.Length == 1 ? "Example:" : "Examples:");
                foreach (var line in lines)
                {
                    output.WriteLine($"  {line}");
                }

                output.WriteLine();
            }

            return code;
        }
    }
}
