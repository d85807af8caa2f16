using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Cradle.Cli.Settings;

/// <summary>How a long-running command logs: level, and an optional rolling file.</summary>
internal sealed record LogSettings(LogLevel Level, string? File, long FileBytes, int FilesKept);

/// <summary>The logging flags a long-running command shares (<c>--verbose</c>, <c>--quiet</c>, <c>--log-file</c>…) and their settings.</summary>
internal sealed class LogOptions
{
    public const int DefaultFileMegabytes = 10;
    public const int DefaultFilesKept = 5;

    private static readonly string[] Levels = ["trace", "debug", "information", "warning", "error"];

    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Log debug detail (setting logLevel: debug)" };

    public Option<bool> Quiet { get; } = new("--quiet") { Description = "Log only warnings and errors (setting logLevel: warning)" };

    public Option<string?> File { get; } = new("--log-file") { Description = "Also log to this file (relative: inside the folder), rolled over by size; the service units use logs/cradle.log", HelpName = "PATH" };

    public Option<int> FileSize { get; } = new("--log-file-size") { Description = "Start a new log file after this many MiB", DefaultValueFactory = _ => DefaultFileMegabytes, HelpName = "MIB" };

    public Option<int> FilesKept { get; } = new("--log-files") { Description = "How many log files to keep (the current one and the older ones)", DefaultValueFactory = _ => DefaultFilesKept, HelpName = "N" };

    public IEnumerable<Option> All => [Verbose, Quiet, File, FileSize, FilesKept];

    public IEnumerable<Setting> Settings =>
    [
        Setting.Custom("logLevel", $"give one of {string.Join(", ", Levels)}", v => Levels.Contains(v, StringComparer.OrdinalIgnoreCase), LevelFromCommandLine, "information"),
        Setting.Single("logFile", File, "give a file path (relative: inside the folder)", Setting.IsText, null),
        Setting.Single("logFileSize", FileSize, "give 1 to 1024 (MiB)", Setting.IsInteger(1, 1024), DefaultFileMegabytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("logFiles", FilesKept, "give 1 to 100 (files kept)", Setting.IsInteger(1, 100), DefaultFilesKept.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    public static LogSettings From(EffectiveSettings settings)
    {
        var level = settings.Text("logLevel").ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        var file = settings.OptionalText("logFile") is { } f ? Path.GetFullPath(f, settings.Folder) : null;
        return new LogSettings(level, file, settings.Integer("logFileSize") * 1024 * 1024, (int)settings.Integer("logFiles"));
    }

    private CommandLineValue? LevelFromCommandLine(ParseResult result)
    {
        // GetResult first: a command may carry only some of these flags (install-service carries none).
        var verbose = result.GetResult(Verbose) is not null && result.GetValue(Verbose);
        var quiet = result.GetResult(Quiet) is not null && result.GetValue(Quiet);
        return (verbose, quiet) switch
        {
            (true, true) => throw new ArgumentException("give --verbose or --quiet, not both"),
            (true, false) => new CommandLineValue(Verbose.Name, ["debug"]),
            (false, true) => new CommandLineValue(Quiet.Name, ["warning"]),
            _ => null,
        };
    }
}
