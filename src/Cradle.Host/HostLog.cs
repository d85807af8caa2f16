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

    [LoggerMessage(1009, LogLevel.Information, "watching serial port {Port} ({Rates})")]
    public static partial void WatchingSerial(ILogger logger, string port, string rates);

    [LoggerMessage(1010, LogLevel.Warning, "serial port {Port}: {Reason}; trying again")]
    public static partial void SerialUnavailable(ILogger logger, string port, string reason);

    [LoggerMessage(1011, LogLevel.Information, "serial port {Port}: {Device} offers a session at {Baud} baud")]
    public static partial void SerialOffer(ILogger logger, string port, string device, int baud);

    [LoggerMessage(1012, LogLevel.Information, "USB interface {Interface} is up: listening on {Address}")]
    public static partial void UsbUp(ILogger logger, string @interface, string address);

    [LoggerMessage(1013, LogLevel.Information, "USB interface {Interface} went down (cable out): its sessions end")]
    public static partial void UsbDown(ILogger logger, string @interface);

    [LoggerMessage(1014, LogLevel.Information, "{Remote}: {Device} connected as a guest (no partnership; nothing is stored for it)")]
    public static partial void GuestConnected(ILogger logger, string remote, string device);

    [LoggerMessage(1015, LogLevel.Information, "{Remote}: {Device} reclaimed its record with its recovery key (P9): number {OldNumber} -> {NewNumber}, history kept")]
    public static partial void Reclaimed(ILogger logger, string remote, string device, string oldNumber, string newNumber);

    [LoggerMessage(1016, LogLevel.Warning, "{Remote}: reclaim of {Device} refused: the recovery key proof is wrong (a device that is not {Device}, or one with another recovery key)")]
    public static partial void ReclaimRefused(ILogger logger, string remote, string device);

    [LoggerMessage(1017, LogLevel.Information, "{Remote}: restoring snapshot {Snapshot} of {Source} to {Device} ({Grounds}): {Files} files, {Bytes} bytes")]
    public static partial void RestoreStarted(ILogger logger, string remote, long snapshot, string source, string device, string grounds, long files, long bytes);

    [LoggerMessage(1018, LogLevel.Information, "{Remote}: restore to {Device} done: {Restored} restored, {Skipped} skipped, {Failed} failed, {Chunks} chunks sent")]
    public static partial void RestoreFinished(ILogger logger, string remote, string device, ulong restored, ulong skipped, ulong failed, long chunks);

    [LoggerMessage(1019, LogLevel.Warning, "USB interface {Interface}: {Reason}; trying again")]
    public static partial void UsbUnavailable(ILogger logger, string @interface, string reason);

    [LoggerMessage(1020, LogLevel.Debug, "{Remote}: hello from {Device} (model {Model}, {Software}, protocol {Version}, holds {Held} partnerships) over {Link}")]
    public static partial void Hello(ILogger logger, string remote, string device, string model, string software, uint version, uint held, string link);

    [LoggerMessage(1021, LogLevel.Debug, "{Remote}: chunk query {Query}: {Asked} ids, {Missing} missing")]
    public static partial void ChunkQuery(ILogger logger, string remote, uint query, int asked, int missing);

    [LoggerMessage(1022, LogLevel.Warning, "{Link} link: cannot accept a connection: {Reason}; trying again")]
    public static partial void AcceptFailed(ILogger logger, string link, string reason);

    [LoggerMessage(1023, LogLevel.Warning, "{Link} link: turning connections away ({Refused} since the last report, the latest from {Remote}): {Open} of {Limit} file descriptors open, {Reserve} kept for the sessions running")]
    public static partial void ConnectionsShed(ILogger logger, string link, long refused, string remote, long open, long limit, int reserve);

    [LoggerMessage(1024, LogLevel.Information, "{Remote}: {Device} never confirmed partnership {OldNumber} (its secret did not reach the device's storage); made partnership {NewNumber} in its place")]
    public static partial void UnconfirmedReplaced(ILogger logger, string remote, string device, string oldNumber, string newNumber);

    [LoggerMessage(1025, LogLevel.Debug, "{Remote}: {Device} holds partnership {Number}: confirmed ({How})")]
    public static partial void PartnershipConfirmed(ILogger logger, string remote, string device, string number, string how);

    [LoggerMessage(1026, LogLevel.Warning, "{Device}: snapshot {Snapshot} is committed, but its time could not be recorded as the device's last backup: {Reason}")]
    public static partial void LastBackupNotRecorded(ILogger logger, string device, long snapshot, string reason);

    [LoggerMessage(1027, LogLevel.Warning, "{Remote}: partnership request of {Device} (code {Code}) withdrawn: {Reason}")]
    public static partial void PendingDropped(ILogger logger, string remote, string device, string code, string reason);

    [LoggerMessage(1028, LogLevel.Warning, "pending partnerships: cannot read the operator's decisions now: {Reason}; trying again")]
    public static partial void ApprovalsUnreadable(ILogger logger, string reason);

    [LoggerMessage(1029, LogLevel.Warning, "approve/deny: {Count} wrong codes given within {Minutes} minutes; decisions locked until {LockedUntil}")]
    public static partial void WrongApprovalCodes(ILogger logger, int count, double minutes, string lockedUntil);

    [LoggerMessage(1030, LogLevel.Information, "{Remote}: {Device} left while its partnership waited for approval (code {Code}): {Reason}; nothing was created")]
    public static partial void PendingGone(ILogger logger, string remote, string device, string code, string reason);

    [LoggerMessage(1031, LogLevel.Warning, "{Link} link: turning connections away ({Refused} since the last report, the latest from {Remote}): {Unauthenticated} connections are not authenticated yet, the most allowed ({Limit})")]
    public static partial void UnauthenticatedShed(ILogger logger, string link, long refused, string remote, int unauthenticated, int limit);

    [LoggerMessage(1032, LogLevel.Warning, "{Folder}: {Count} files and folders were readable by other users and were made private (folders 0700, files 0600)")]
    public static partial void ModesRepaired(ILogger logger, string folder, int count);

    [LoggerMessage(1033, LogLevel.Error, "{Remote}: the restore to {Device} stopped ({Reason}); the store is damaged: {Problem} (cradle host check --read-data lists what it affects)")]
    public static partial void RestoreFoundDamage(ILogger logger, string remote, string device, string reason, string problem);

    // 1040-1049: what a backup could not read, and backups that changed nothing (issue 20).
    [LoggerMessage(1040, LogLevel.Warning, "{Device}: snapshot {Snapshot} is PARTIAL: entries that could not be read: {Problems} ({Carried} carried forward from earlier snapshots); first: {First}")]
    public static partial void PartialSnapshot(ILogger logger, string device, long snapshot, long problems, long carried, string first);

    [LoggerMessage(1041, LogLevel.Warning, "{Device}: snapshot {Snapshot} holds {Files} files, the newest complete one before held {Previous}: empty or most files vanished (a data folder unmounted?)")]
    public static partial void FlaggedSnapshot(ILogger logger, string device, long snapshot, long files, long previous);

    [LoggerMessage(1042, LogLevel.Information, "{Device}: nothing changed since snapshot {Snapshot}: no new snapshot, that one verified now")]
    public static partial void Unchanged(ILogger logger, string device, long snapshot);
}
