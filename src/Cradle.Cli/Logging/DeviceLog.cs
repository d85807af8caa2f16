using Microsoft.Extensions.Logging;

namespace Cradle.Cli.Logging;

/// <summary>
/// The device agent's log messages, with stable event ids (2xxx; the host's are 1xxx). The device
/// engine reports through <c>ISessionObserver</c>; <c>cradle device connect</c> turns its reports
/// into these events.
/// </summary>
internal static partial class DeviceLog
{
    [LoggerMessage(2000, LogLevel.Information, "connecting over {Route}")]
    public static partial void Connecting(ILogger logger, string route);

    [LoggerMessage(2001, LogLevel.Information, "{Message}")]
    public static partial void Notice(ILogger logger, string message);

    [LoggerMessage(2002, LogLevel.Warning, "{Message}")]
    public static partial void Warning(ILogger logger, string message);

    [LoggerMessage(2003, LogLevel.Information, "partnership with {Host} waits for its operator's approval: code {Code}")]
    public static partial void WaitingForApproval(ILogger logger, string host, string code);

    [LoggerMessage(2004, LogLevel.Information, "backed up {Files} files, {Bytes} bytes, {WireBytes} bytes sent")]
    public static partial void BackedUp(ILogger logger, long files, long bytes, long wireBytes);

    [LoggerMessage(2005, LogLevel.Trace, "{Phase}: {FilesDone}/{FilesTotal} files, {BytesDone} bytes")]
    public static partial void Progress(ILogger logger, string phase, long filesDone, long filesTotal, long bytesDone);

    [LoggerMessage(2006, LogLevel.Information, "disconnected")]
    public static partial void Disconnected(ILogger logger);
}
