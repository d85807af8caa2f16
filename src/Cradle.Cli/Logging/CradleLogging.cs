using Cradle.Cli.Settings;
using Cradle.Host;
using Microsoft.Extensions.Logging;

namespace Cradle.Cli.Logging;

/// <summary>The logger factory of a long-running command: the console (stderr) always, a rolling file when one is set.</summary>
internal static class CradleLogging
{
#if !CRADLE_DEVICE_ONLY
    public static ILoggerFactory Create(LogSettings settings) => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(settings.Level)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        if (settings.File is { } file)
        {
            b.AddProvider(new RollingFileLoggerProvider(file, settings.FileBytes, settings.FilesKept));
        }
    });
#endif

    /// <summary>
    /// For <c>cradle device connect</c>, whose console already shows every report in words: the log
    /// events go to the rolling file only (none without one). Made without LoggerFactory.Create's
    /// service container, which cradle-device would otherwise carry for this one call.
    /// </summary>
    public static ILoggerFactory CreateFileOnly(LogSettings settings)
    {
        var factory = new LoggerFactory([], new LoggerFilterOptions { MinLevel = settings.Level });
        if (settings.File is { } file)
        {
            // AddProvider, not the constructor's list: the factory then disposes the provider,
            // which flushes and closes the file.
            factory.AddProvider(new RollingFileLoggerProvider(file, settings.FileBytes, settings.FilesKept));
        }

        return factory;
    }
}
