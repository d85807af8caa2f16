using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Device;

namespace Cradle.Cli;

/// <summary>A data folder as <c>cradle device folders --json</c> shows it.</summary>
internal sealed record FolderRow(string Label, string Path, bool Exists, List<string> Exclude);

/// <summary><c>cradle device folders --json</c>: the folders a backup takes, the patterns for every folder, and where they come from.</summary>
internal sealed record FoldersReport(string Source, List<FolderRow> Folders, List<string> Exclude, string ExcludeSource);

/// <summary><c>cradle device folders …</c>: which folders the device backs up, and what it leaves out.</summary>
internal static partial class DeviceCommands
{
    private static Command Folders()
    {
        var command = new Command("folders", "The data folders this device backs up and their exclude patterns (gitignore-style): list them (the default), add, remove, exclude");
        var (list, listAction) = FoldersList();
        command.Subcommands.Add(list);
        command.Subcommands.Add(FoldersAdd());
        command.Subcommands.Add(FoldersRemove());
        command.Subcommands.Add(FoldersExclude());
        // 'cradle device folders' alone lists them, with list's options.
        foreach (var option in list.Options)
        {
            command.Options.Add(option);
        }

        command.SetAction(listAction);
        return command;
    }

    private static (Command Command, Func<ParseResult, Task<int>> Action) FoldersList()
    {
        var connect = new DeviceConnectOptions();
        var json = CommonOptions.Json();
        var command = new Command("list", "The data folders a backup takes, each with its own exclude patterns, and the patterns for every folder; from the state folder, or from cradle.json when it names folders") { connect.State, json };
        Task<int> Action(ParseResult result) => ExitCodes.RunAsync(() =>
        {
            var (settings, identity) = LoadFolders(connect, result);
            var options = DeviceConnectOptions.ToDeviceOptions(settings);
            var chosen = options.Select(identity);
            var source = options.Folders is null ? new DeviceState(settings.Folder).IdentityPath : settings.Source("folders");
            var excludeSource = options.Exclude is null ? new DeviceState(settings.Folder).IdentityPath : settings.Source("exclude");
            var report = new FoldersReport(source, [.. chosen.Folders.Select(f => new FolderRow(f.Label, f.Path, Directory.Exists(f.Path), f.Exclude ?? []))], chosen.Exclude ?? [], excludeSource);
            if (result.GetValue(json))
            {
                CliJson.Print(report, CliJson.Default.FoldersReport);
                return Task.FromResult(ExitCodes.Ok);
            }

            ConsoleTable.Write(
                ["label", "folder", "exclude"],
                report.Folders.Select(f => (IReadOnlyList<string>)[f.Label + "/", f.Path + (f.Exists ? "" : " (missing)"), f.Exclude.Count == 0 ? "-" : string.Join("  ", f.Exclude)]));
            Console.Out.WriteLine($"exclude in every folder: {(report.Exclude.Count == 0 ? "nothing" : string.Join("  ", report.Exclude))}");
            Console.Out.WriteLine($"folders from {report.Source}{(report.ExcludeSource == report.Source ? "" : $"; patterns for every folder from {report.ExcludeSource}")}");
            return Task.FromResult(ExitCodes.Ok);
        });
        command.SetAction(Action);
        return (command, Action);
    }

    private static Command FoldersAdd()
    {
        var connect = new DeviceConnectOptions();
        var folder = new Argument<string>("DIR") { Description = "The folder to back up (it must exist)" };
        var exclude = new Option<string[]>("--exclude") { Description = "A gitignore-style pattern for what to leave out of this folder (repeat for more)", HelpName = "PATTERN" };
        var command = new Command("add", "Back up one more folder (or, one already backed up, add exclude patterns to it)") { connect.State, folder, exclude };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var (settings, _) = LoadFolders(connect, result);
            RefuseWhenFileNamesFolders(settings, "folders");
            var added = new DeviceState(settings.Folder).AddFolder(result.GetValue(folder)!, result.GetValue(exclude));
            Console.Out.WriteLine($"backs up {added.Path} as {added.Label}/{(added.Exclude is { Count: > 0 } patterns ? $", leaving out {string.Join("  ", patterns)}" : "")}; the next backup takes it");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command FoldersRemove()
    {
        var connect = new DeviceConnectOptions();
        var folder = new Argument<string>("FOLDER") { Description = "The folder's path or its label" };
        var command = new Command("remove", "Stop backing up a folder; the hosts keep what they backed up of it") { connect.State, folder };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var (settings, _) = LoadFolders(connect, result);
            RefuseWhenFileNamesFolders(settings, "folders");
            var removed = new DeviceState(settings.Folder).RemoveFolder(result.GetValue(folder)!);
            Console.Out.WriteLine($"no longer backs up {removed.Path} ({removed.Label}/); the snapshots made so far keep it");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command FoldersExclude()
    {
        var connect = new DeviceConnectOptions();
        var patterns = new Argument<string[]>("PATTERN") { Description = "Gitignore-style patterns: *.tmp, cache/, /exports/old, logs/**/*.gz, !keep.log", Arity = ArgumentArity.OneOrMore };
        var folder = new Option<string?>("--folder") { Description = "Only in this data folder (its path or label); default: in every folder", HelpName = "FOLDER" };
        var remove = new Option<bool>("--remove") { Description = "Take these patterns away instead" };
        var command = new Command("exclude", "Leave out of the backup what these patterns name, in every data folder or in one (--folder); --remove takes them back") { connect.State, patterns, folder, remove };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var (settings, _) = LoadFolders(connect, result);
            var one = result.GetValue(folder);
            RefuseWhenFileNamesFolders(settings, one is null ? "exclude" : "folders");
            var now = new DeviceState(settings.Folder).ChangeExclude(result.GetValue(patterns)!, one, result.GetValue(remove));
            Console.Out.WriteLine($"{(one is null ? "every folder" : one)} now leaves out: {(now.Count == 0 ? "nothing" : string.Join("  ", now))}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static (EffectiveSettings Settings, DeviceIdentity Identity) LoadFolders(DeviceConnectOptions connect, ParseResult result)
    {
        var settings = connect.Load(result);
        return (settings, new DeviceState(settings.Folder).LoadIdentity());
    }

    /// <summary>The state folder's list is what these commands change; a cradle.json (or variable) that names the list overrides it, so changing it here would change nothing.</summary>
    private static void RefuseWhenFileNamesFolders(EffectiveSettings settings, string key)
    {
        if (settings.Source(key) != EffectiveSettings.DefaultSource)
        {
            throw new ArgumentException($"the device's {key} come from {settings.Source(key)}, which overrides the state folder's list: change them there");
        }
    }
}
