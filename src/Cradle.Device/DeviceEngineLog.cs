using Microsoft.Extensions.Logging;

namespace Cradle.Device;

/// <summary>
/// The device engine's log messages, with stable event ids (21xx; the ranges in use are listed in
/// docs/layout.md, "Log event ids"). The engine logs what it does here and separately tells the
/// person watching through <see cref="ISessionObserver"/> (words for a console, not a log).
/// Strings from the host (its name, a refusal's words) are sanitised before they get here.
/// </summary>
internal static partial class DeviceEngineLog
{
    [LoggerMessage(2100, LogLevel.Information, "connecting over {Route}")]
    public static partial void Connecting(ILogger logger, string route);

    [LoggerMessage(2101, LogLevel.Information, "connected to {Host} over the {Link} link")]
    public static partial void Connected(ILogger logger, string host, string link);

    [LoggerMessage(2102, LogLevel.Warning, "session failed: {Reason}; trying again in {DelaySeconds} s (failure {Failures} in a row)")]
    public static partial void Retrying(ILogger logger, string reason, double delaySeconds, int failures);

    [LoggerMessage(2103, LogLevel.Warning, "refused ({Rule}): {Reason}")]
    public static partial void Refused(ILogger logger, string rule, string reason);

    [LoggerMessage(2104, LogLevel.Information, "the {Link} link went down (cable out): session ended; waiting for it to come back")]
    public static partial void LinkWentDown(ILogger logger, string link);

    [LoggerMessage(2105, LogLevel.Warning, "could not read {Path}: {Reason}")]
    public static partial void Unreadable(ILogger logger, string path, string reason);

    [LoggerMessage(2106, LogLevel.Information, "{Path} changed while it was read: reading it again")]
    public static partial void ChangedWhileRead(ILogger logger, string path);

    [LoggerMessage(2107, LogLevel.Warning, "scan skipped {Skipped}")]
    public static partial void Skipped(ILogger logger, string skipped);

    [LoggerMessage(2108, LogLevel.Warning, "scan: {Note}")]
    public static partial void Unnamed(ILogger logger, string note);

    [LoggerMessage(2109, LogLevel.Warning, "the files cache is unreadable and is rebuilt: {Reason}")]
    public static partial void FilesCacheRebuilt(ILogger logger, string reason);

    [LoggerMessage(2110, LogLevel.Information, "snapshot {Snapshot} committed on {Host}: {Files} files, {Bytes} bytes sent, {Chunks} chunks, {WireBytes} bytes on the link, {Problems} unreadable")]
    public static partial void Committed(ILogger logger, long snapshot, string host, long files, long bytes, long chunks, long wireBytes, int problems);

    [LoggerMessage(2111, LogLevel.Information, "reclaimed the partnership with {Host} with the recovery key: number {Number}")]
    public static partial void Reclaimed(ILogger logger, string host, string number);

    [LoggerMessage(2112, LogLevel.Information, "new partnership with {Host}: number {Number}")]
    public static partial void Partnered(ILogger logger, string host, string number);

    [LoggerMessage(2113, LogLevel.Information, "partnership with {Host} waits for its operator's approval: code {Code}")]
    public static partial void WaitingForApproval(ILogger logger, string host, string code);

    [LoggerMessage(2114, LogLevel.Information, "offering a session on {Port} at {Baud} baud until a host answers")]
    public static partial void OfferingSerial(ILogger logger, string port, int baud);

    [LoggerMessage(2115, LogLevel.Information, "waiting for the USB cable: interface {Interface} is down")]
    public static partial void WaitingForCable(ILogger logger, string @interface);

    [LoggerMessage(2116, LogLevel.Information, "USB cable in: {Interface} is up; connecting to {Host}")]
    public static partial void CableIn(ILogger logger, string @interface, string host);

    [LoggerMessage(2117, LogLevel.Information, "disconnected from {Host}: {Reason}")]
    public static partial void Disconnected(ILogger logger, string host, string reason);

    [LoggerMessage(2118, LogLevel.Debug, "backup memory (generation 0's budget at most {Gen0MaxBudget} bytes, 0: the GC's own): {AllocatedBytes} bytes allocated by the agent so far, {Collections0}/{Collections1}/{Collections2} collections of generations 0/1/2; the last: heap {HeapBytes} bytes, {FragmentedBytes} fragmented, {CommittedBytes} committed, generation 0 {Gen0BeforeBytes} before it and {Gen0AfterBytes} after, large objects {LargeBeforeBytes} before and {LargeAfterBytes} after")]
    public static partial void BackupMemory(ILogger logger, long gen0MaxBudget, long allocatedBytes, int collections0, int collections1, int collections2, long heapBytes, long fragmentedBytes, long committedBytes, long gen0BeforeBytes, long gen0AfterBytes, long largeBeforeBytes, long largeAfterBytes);

    [LoggerMessage(2119, LogLevel.Debug, "after the backup: the managed heap {BeforeBytes} → {AfterBytes} bytes, {CommittedBytes} committed")]
    public static partial void GaveBackMemory(ILogger logger, long beforeBytes, long afterBytes, long committedBytes);
}
