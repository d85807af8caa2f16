using Microsoft.Extensions.Logging;

namespace Cradle.ActiveSync;

/// <summary>The ActiveSync layer's log messages, with stable event ids (3xxx). Device strings arrive escaped.</summary>
internal static partial class ActiveSyncLog
{
    [LoggerMessage(3000, LogLevel.Information, "ActiveSync: listening for devices on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(3001, LogLevel.Information, "ActiveSync: {Remote}: {Device} connected ({Model}, Windows CE {OsMajor}.{OsMinor}, {Rapi}, lock: {Lock}, partner id {PartnerId})")]
    public static partial void DeviceIdentified(ILogger logger, string remote, string device, string model, uint osMajor, uint osMinor, string rapi, string @lock, string partnerId);

    [LoggerMessage(3002, LogLevel.Warning, "ActiveSync: {Remote}: the control handshake failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(3003, LogLevel.Warning, "ActiveSync: {Remote}: a connection sent {FirstWord}, which is neither a new device (0) nor a RAPI session this host asked for; closed")]
    public static partial void UnexpectedConnection(ILogger logger, string remote, string firstWord);

    [LoggerMessage(3004, LogLevel.Information, "ActiveSync: {Device}: the control connection ended: {Reason}")]
    public static partial void ControlEnded(ILogger logger, string device, string reason);

    [LoggerMessage(3005, LogLevel.Debug, "ActiveSync: {Device}: RAPI session {RequestId} opened")]
    public static partial void RapiSessionOpened(ILogger logger, string device, uint requestId);

    [LoggerMessage(3006, LogLevel.Debug, "ActiveSync: {Device}: the device sent {Word} on the control channel; ignored")]
    public static partial void UnknownControlWord(ILogger logger, string device, string word);

    [LoggerMessage(3007, LogLevel.Information, "ActiveSync: {Device}: the device has not answered a keepalive; keeping it (cable watch and socket close still end the session)")]
    public static partial void KeepaliveNeverAnswered(ILogger logger, string device);

    [LoggerMessage(3008, LogLevel.Warning, "ActiveSync: {Device}: the device refused the password")]
    public static partial void PasswordRefused(ILogger logger, string device);

    [LoggerMessage(3009, LogLevel.Information, "ActiveSync: {Device}: unlocked")]
    public static partial void Unlocked(ILogger logger, string device);

    [LoggerMessage(3010, LogLevel.Information, "ActiveSync: {Device}: waiting for the device to be unlocked on its screen")]
    public static partial void WaitingForUnlock(ILogger logger, string device);

    [LoggerMessage(3011, LogLevel.Warning, "ActiveSync: {Remote}: too many connections waiting for their first word; closed one")]
    public static partial void TooManyPending(ILogger logger, string remote);

    [LoggerMessage(3012, LogLevel.Warning, "ActiveSync: RAPI session to {Device} broken: {Reason}")]
    public static partial void RapiBroken(ILogger logger, string device, string reason);

    [LoggerMessage(3013, LogLevel.Warning, "ActiveSync: accepting a connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(3014, LogLevel.Warning, "ActiveSync: {Device}: closing a file handle failed: {Reason}")]
    public static partial void CloseFailed(ILogger logger, string device, string reason);
}
