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
        ["cradle host run"] = ["cradle host run --data /srv/cradle --serial /dev/ttyS0 --usb usb0 --http 0.0.0.0:5680", "sudo cradle host run --data /srv/cradle --activesync enx0050b6 --activesync-folder '\\Program Files\\Scanner\\Data'   (Windows CE / Windows Mobile devices; TCP 990 needs CAP_NET_BIND_SERVICE)", "sudo cradle host run --data /srv/cradle --activesync auto   (every RNDIS / CDC Ethernet interface a cradled device brings up)", "CRADLE_HOST__LISTEN=0.0.0.0:5679 cradle host run   (or \"listen\" in /srv/cradle/cradle.json)"],
        ["cradle host config"] = ["cradle host config --data /srv/cradle", "cradle host config --json --listen 127.0.0.1:5679"],
        ["cradle host install-service"] = ["sudo cradle host install-service --data /srv/cradle --user cradle", "cradle host install-service --print"],
        ["cradle host devices"] = ["cradle host devices --json"],
        ["cradle host snapshots"] = ["cradle host snapshots MX7-01"],
        ["cradle host restore"] = ["cradle host restore MX7-01 --to ./mx7-files", "cradle host restore MX7-01 --snapshot 12 --to ./mx7-files --dry-run", "cradle host restore MX7-01 --to ./mx7-files --overwrite", "cradle host restore MX7-01 --to-device   (a cradled Windows CE / Windows Mobile device, also after a cold boot; the host must be running)", "cradle host restore MX7-01 --to-device --path 'My Documents/scans' --snapshot 12"],
        ["cradle host forget"] = ["cradle host forget MX7-01 --dry-run", "cradle host forget MX7-01 --keep-backups --yes   (in a script: no question)"],
        ["cradle host allow-restore"] = ["cradle host allow-restore MX7-01 --to MX7-01   (the same device after a cold boot)", "cradle host allow-restore MX7-01 --to MX7-02 --expires 30"],
        ["cradle host check"] = ["cradle host check --read-data"],
        ["cradle host prune"] = ["cradle host prune --keep-last 10 --keep-daily 7 --dry-run", "cradle host prune --keep-daily 14 --yes   (in a script: no question)"],
        ["cradle host get-connected"] = ["cradle host get-connected --port /dev/ttyS0 --port /dev/ttyUSB0", "cradle host get-connected --baud 9600 --wait 3"],
        ["cradle host pending"] = ["cradle host pending"],
        ["cradle host approve"] = ["cradle host approve 482913"],
        ["cradle host deny"] = ["cradle host deny 482913"],
        ["cradle host activesync-password"] = ["cradle host activesync-password Pocket_PC   (type it; no echo)", "echo \"$PASSWORD\" | cradle host activesync-password MX7-01", "cradle host activesync-password MX7-01 --clear"],
        ["cradle host rename-device"] = ["cradle host rename-device Pocket_PC MX7-07 --yes   (the device refused because another Pocket_PC partnered first)", "cradle host rename-device Pocket_PC MX7-08 --yes --connection 169.254.2.1:1042   (two connected carry the name)"],
        ["cradle host http-token"] = ["cradle host http-token --data /srv/cradle", "cradle host http-token --rotate   (the old token stops working at once)"],
        ["cradle device"] = ["cradle device init --name MX7-01 --folder /data/scans", "cradle device connect --usb usb0"],
        ["cradle device init"] = ["cradle device init --name MX7-01 --folder /data/scans --folder /data/forms"],
        ["cradle device folders"] = ["cradle device folders", "cradle device folders add /data/forms --exclude '*.tmp'", "cradle device folders exclude 'cache/'"],
        ["cradle device folders list"] = ["cradle device folders list --json"],
        ["cradle device folders add"] = ["cradle device folders add /data/forms --exclude '*.tmp' --exclude 'drafts/'"],
        ["cradle device folders remove"] = ["cradle device folders remove forms"],
        ["cradle device folders exclude"] = ["cradle device folders exclude '*.bak' 'cache/'", "cradle device folders exclude '/exports/old' --folder scans", "cradle device folders exclude '*.bak' --remove"],
        ["cradle device name"] = ["cradle device name", "cradle device name MX7-02 --yes"],
        ["cradle device partnerships"] = ["cradle device partnerships --json"],
        ["cradle device end-partnership"] = ["cradle device end-partnership depot-pc --yes   (the host at its address was reinstalled)"],
        ["cradle device connect"] = ["cradle device connect --host depot-pc:5679 --once", "cradle device connect --host depot-pc:5679 --once --accept-new-host 482913   (a new host showing that code)", "cradle device connect --serial /dev/ttyS1 --baud 115200", "cradle device connect --usb usb0"],
        ["cradle device config"] = ["cradle device config --state /var/lib/cradle", "cradle device config --json --usb usb0"],
        ["cradle device install-service"] = ["sudo cradle device install-service --usb usb0", "cradle device install-service --serial /dev/ttyS1 --print"],
        ["cradle device restore"] = ["cradle device restore --host depot-pc:5679", "cradle device restore --usb usb0 --path 'scans/**/*.csv'"],
        ["cradle device disconnect"] = ["cradle device disconnect"],
        ["cradle device status"] = ["cradle device status --json"],
        ["cradle device cold-boot"] = ["cradle device cold-boot", "cradle device cold-boot --yes   (in a script: no question)"],
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
            var configuration = parseResult.InvocationConfiguration;
            var output = configuration.Output;
            using var captured = new StringWriter();
            configuration.Output = captured;
            int code;
            try
            {
                code = help.Invoke(parseResult);
            }
            finally
            {
                configuration.Output = output;
            }

            output.Write(OptionalArguments(captured.ToString(), parseResult.CommandResult.Command));
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                output.WriteLine(lines.Length == 1 ? "Example:" : "Examples:");
                foreach (var line in lines)
                {
                    output.WriteLine($"  {line}");
                }

                output.WriteLine();
            }

            return code;
        }

        /// <summary>
        /// The list of commands shows an optional argument as the command's own usage line does,
        /// "name [&lt;NEW&gt;]" (System.CommandLine writes "name &lt;NEW&gt;" there, and its help builder is not open to change).
        /// </summary>
        private static string OptionalArguments(string text, Command parent)
        {
            foreach (var sub in parent.Subcommands)
            {
                foreach (var argument in sub.Arguments.Where(a => a.Arity.MinimumNumberOfValues == 0))
                {
                    // Two characters more: taken from the padding, so the descriptions stay in their column.
                    text = text.Replace($"  {sub.Name} <{argument.Name}>  ", $"  {sub.Name} [<{argument.Name}>]", StringComparison.Ordinal);
                }
            }

            return text;
        }
    }
}
