using System.CommandLine;

namespace Cradle.Cli;

/// <summary>Options several commands share, made fresh for each command.</summary>
internal static class CommonOptions
{
    public static string DefaultHostFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "cradle", "host");

    public static string DefaultDeviceFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "cradle", "device");

    public static Option<string> Data() => new("--data")
    {
        Description = "The host's folder: database, packs, certificate, cradle.json (or CRADLE_HOST__DATA)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CRADLE_HOST__DATA") is { Length: > 0 } env ? env : DefaultHostFolder,
        HelpName = "DIR",
    };

    public static Option<string> State() => new("--state")
    {
        Description = "The device's state folder: persistent and volatile parts, cradle.json (or CRADLE_DEVICE__STATE)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CRADLE_DEVICE__STATE") is { Length: > 0 } env ? env : DefaultDeviceFolder,
        HelpName = "DIR",
    };

    /// <summary>
    /// The catalog of the host commands other than <c>run</c>; like <c>run</c>'s <c>--catalog</c>,
    /// it falls back to CRADLE_HOST__CATALOG, then the folder's cradle.json (<c>HostStore</c>).
    /// </summary>
    public static Option<string> Catalog() => new("--catalog")
    {
        Description = "Where the catalog and partnerships are: empty for cradle.db in the host's folder (the default); a PostgreSQL connection string 'Host=H;Port=P;Database=D;Username=U;Password=W' or URL 'postgres://U:W@H:P/D' for a catalog several hosts share",
        HelpName = "CONNSTRING",
    };

    public static Option<bool> Yes() => new("--yes") { Description = "Go ahead without asking (needed when there is no terminal to ask on)" };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts instead of a table" };
}
