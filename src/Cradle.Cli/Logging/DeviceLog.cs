using Microsoft.Extensions.Logging;

namespace Cradle.Cli.Logging;

/// <summary>
/// <c>cradle device connect</c>'s own log messages, with stable event ids (20xx; the device
/// engine's are 21xx, <c>Cradle.Device.DeviceEngineLog</c>; every range: docs/layout.md). 2001–2004
/// are retired, never to be reused: they carried the engine's observer words (notices, warnings,
/// the approval code, "backed up"), which the engine now logs itself as events.
/// </summary>
internal static partial class DeviceLog
{
    [LoggerMessage(2000, LogLevel.Information, "connecting over {Route}")]
    public static partial void Connecting(ILogger logger, string route);

    [LoggerMessage(2005, LogLevel.Trace, "{Phase}: {FilesDone}/{FilesTotal} files, {BytesDone} bytes")]
    public static partial void Progress(ILogger logger, string phase, long filesDone, long filesTotal, long bytesDone);

    [LoggerMessage(2006, LogLevel.Information, "disconnected")]
    public static partial void Disconnected(ILogger logger);
}
