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
        var root = new RootCommand($"""
            cradle-device: the Cradle device agent on its own (no host in it). Each command is the
            all-in-one's 'cradle device' command of the same name: 'cradle-device connect --host ADDR'
            is 'cradle device connect --host ADDR'.

            {DeviceCommands.Description}
            """);
        // Only the command this run names, when it names one (start-up; help and a mistyped name
        // get them all): the arguments as Program parses them, after the executable's path. The
        // commands are the root's own, so help's usage line reads 'cradle-device status'.
        foreach (var command in DeviceCommands.Make(Environment.GetCommandLineArgs().Skip(1).FirstOrDefault()))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }
}
