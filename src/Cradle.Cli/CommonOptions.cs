using System.CommandLine;

namespace Cradle.Cli;

/// <summary>Options several commands share, made fresh for each command.</summary>
internal static class CommonOptions
{
    public static string DefaultHostFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cradle", "host");

    public static string DefaultDeviceFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cradle", "device");

    public static Option<string> Data() => new("--data")
    {
        Description = "The host's folder: database, packs, certificate",
        DefaultValueFactory = _ => DefaultHostFolder,
        HelpName = "DIR",
    };

    public static Option<string> State() => new("--state")
    {
        Description = "The device's state folder (persistent and volatile parts)",
        DefaultValueFactory = _ => DefaultDeviceFolder,
        HelpName = "DIR",
    };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts instead of a table" };
}
