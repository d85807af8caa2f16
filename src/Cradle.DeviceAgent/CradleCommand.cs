using System.CommandLine;

namespace Cradle.Cli;

/// <summary>
/// The <c>cradle-device</c> command tree: the subcommands of the all-in-one's <c>cradle device</c>,
/// at the top level (<c>cradle-device connect</c> is <c>cradle device connect</c>).
/// </summary>
internal static class CradleCommand
{
    /// <summary>The words before a device command's name: none, the device's commands are this executable's own.</summary>
    public static readonly string[] DeviceVerb = [];

    /// <summary>The executable's name, as usage errors name the command.</summary>
    public const string ExecutableName = "cradle-device";

    public static RootCommand Build()
    {
        MallocArenas.UseOneArena();
        // Only the command this run names, when it names one (start-up; help and a mistyped name
        // get them all). The arguments as Program parses them, after the executable's path.
        var device = DeviceCommands.Build(Environment.GetCommandLineArgs().Skip(1).FirstOrDefault());
        var root = new RootCommand($"""
            cradle-device: the Cradle device agent on its own (no host in it). Each command is the
            all-in-one's 'cradle device' command of the same name: 'cradle-device connect --host ADDR'
            is 'cradle device connect --host ADDR'.

            {device.Description}
            """);
        foreach (var command in device.Subcommands)
        {
            root.Subcommands.Add(command);
        }

        // A command finds recursive options (--help) through its first parent, 'device', which is
        // not under the root here: without this 'cradle-device restore --help' was refused.
        foreach (var option in root.Options.Where(o => o.Recursive).ToList())
        {
            device.Options.Add(option);
        }

        foreach (var option in device.Options)
        {
            root.Options.Add(option);
        }

        return root;
    }
}
