using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Device;

namespace Cradle.Cli;

/// <summary><c>cradle host config</c> and <c>cradle device config</c>: the effective settings and where each came from.</summary>
internal static class ConfigCommands
{
#if !CRADLE_DEVICE_ONLY
    public static Command Host()
    {
        var run = new HostRunOptions();
        var json = CommonOptions.Json();
        var command = new Command("config", "Show the settings 'cradle host run' would use and where each comes from: its flag, a CRADLE_HOST__KEY environment variable, the host folder's cradle.json, or the default (in that order). Takes the same flags as 'host run'; a value it would refuse is refused here, with its key, its value and what is allowed") { json };
        foreach (var option in run.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var settings = run.Load(result);
            HostRunOptions.ToHostOptions(settings);
            Print(settings, result.GetValue(json));
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
#endif

    public static Command Device()
    {
        var connect = new DeviceConnectOptions();
        var json = CommonOptions.Json();
        var command = new Command("config", $"Show the settings '{DeviceCommandLine.Of("connect")}' would use and where each comes from: its flag, a CRADLE_DEVICE__KEY environment variable, the state folder's cradle.json, or the default (in that order); folders and exclude default to the state folder's ({DeviceCommandLine.Of("folders")}). Takes the same flags as 'device connect'") { json };
        foreach (var option in connect.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var settings = connect.Load(result);
            DeviceConnectOptions.ToDeviceOptions(settings);
            Print(settings, result.GetValue(json));
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static void Print(EffectiveSettings settings, bool json)
    {
        var rows = settings.Values.Select(v => new ConfigRow(
            v.Key, v.Environment, v.Setting.IsList ? null : v.Values.Select(v.Setting.Show).FirstOrDefault(), v.Setting.IsList ? [.. v.Values.Select(v.Setting.Show)] : null, v.Source)).ToList();
        if (json)
        {
            CliJson.Print(new ConfigReport(settings.Section, settings.File, settings.FileExists, rows), CliJson.Default.ConfigReport);
            return;
        }

        Console.Out.WriteLine(settings.FileExists
            ? $"{settings.Section} settings; file {settings.File}"
            : $"{settings.Section} settings; no file at {settings.File} (defaults, environment and flags only)");
        var keyWidth = rows.Max(r => r.Key.Length) + 2;
        var valueWidth = Math.Min(40, rows.Max(r => Show(r).Length)) + 2;
        var envWidth = rows.Max(r => r.Environment.Length) + 2;
        Console.Out.WriteLine($"{"key".PadRight(keyWidth)}{"value".PadRight(valueWidth)}{"environment variable".PadRight(envWidth)}from");
        foreach (var r in rows)
        {
            Console.Out.WriteLine($"{r.Key.PadRight(keyWidth)}{Show(r).PadRight(valueWidth)}{r.Environment.PadRight(envWidth)}{r.Source}");
        }
    }

    private static string Show(ConfigRow row) => row.Values is { } list
        ? (list.Count == 0 ? "(none)" : string.Join(",", list))
        : row.Value ?? "(none)";
}
