using Microsoft.Extensions.Logging;

namespace Cradle.Host;

/// <summary>The host's log messages, with stable event ids (1xxx).</summary>
internal static partial class HostLog
{
    [LoggerMessage(1000, LogLevel.Information, "listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(1001, LogLevel.Information, "{Remote}: {Device} connected (partnership {Number})")]
    public static partial void Authenticated(ILogger logger, string remote, string device, string number);

    [LoggerMessage(1002, LogLevel.Information, "{Remote}: new partnership with {Device}, number {Number}")]
    public static partial void PartnershipCreated(ILogger logger, string remote, string device, string number);

    [LoggerMessage(1003, LogLevel.Warning, "{Remote}: refused {Device}: {Rule}: {Reason}")]
    public static partial void Refused(ILogger logger, string remote, string device, string rule, string reason);

    [LoggerMessage(1004, LogLevel.Information, "{Remote}: partnership with {Device} waits for approval: code {Code} (cradle host approve {Code})")]
    public static partial void WaitingForApproval(ILogger logger, string remote, string device, string code);

    [LoggerMessage(1005, LogLevel.Information, "{Device}: snapshot {Snapshot} committed: {Files} files, {Bytes} bytes, {NewChunks} new chunks, {Stored} bytes stored")]
    public static partial void Committed(ILogger logger, string device, long snapshot, long files, long bytes, long newChunks, long stored);

    [LoggerMessage(1006, LogLevel.Warning, "{Remote}: session ended: {Reason}")]
    public static partial void SessionFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(1007, LogLevel.Information, "{Remote}: session ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, string remote, string reason);

    [LoggerMessage(1008, LogLevel.Error, "{Remote}: session failed unexpectedly")]
    public static partial void SessionCrashed(ILogger logger, string remote, Exception exception);
}
