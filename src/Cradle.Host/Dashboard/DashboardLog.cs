using Microsoft.Extensions.Logging;

namespace Cradle.Host.Dashboard;

/// <summary>The dashboard's log messages, with stable event ids (11xx). Tokens never appear in them.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(1100, LogLevel.Information, "dashboard on {Address} ({Access})")]
    public static partial void Listening(ILogger logger, string address, string access);

    [LoggerMessage(1101, LogLevel.Warning, "dashboard: refused {Method} {Path} from {Remote}: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string path, string remote, string reason);

    [LoggerMessage(1102, LogLevel.Information, "dashboard: {Action}")]
    public static partial void Action(ILogger logger, string action);

    [LoggerMessage(1103, LogLevel.Error, "dashboard: {Method} {Path} failed")]
    public static partial void Failed(ILogger logger, string method, string path, Exception exception);
}
