using Microsoft.Extensions.Logging;

namespace Cradle.Host.ActiveSync;

/// <summary>The host's ActiveSync device sessions' log messages, with stable event ids (12xx).</summary>
internal static partial class ActiveSyncHostLog
{
    [LoggerMessage(1200, LogLevel.Information, "ActiveSync: {Interface} is up: listening on {Address}, the device at {Device} is triggered")]
    public static partial void InterfaceUp(ILogger logger, string @interface, string address, string device);

    [LoggerMessage(1201, LogLevel.Information, "ActiveSync: {Interface} went down (cable out)")]
    public static partial void InterfaceDown(ILogger logger, string @interface);

    [LoggerMessage(1202, LogLevel.Error, "ActiveSync: {Interface}: {Reason}")]
    public static partial void InterfaceUnavailable(ILogger logger, string @interface, string reason);

    [LoggerMessage(1203, LogLevel.Information, "ActiveSync: {Remote}: {Device} connected (partnership {Number}, slot P{Slot})")]
    public static partial void Partnered(ILogger logger, string remote, string device, string number, int slot);

    [LoggerMessage(1204, LogLevel.Information, "ActiveSync: {Remote}: new partnership with {Device}, number {Number}, written to the device's slot P{Slot}")]
    public static partial void PartnershipCreated(ILogger logger, string remote, string device, string number, int slot);

    [LoggerMessage(1205, LogLevel.Information, "ActiveSync: {Device}: {Files} files and folders listed in {Folders} folders; {Unchanged} files unchanged since the last snapshot are not read again")]
    public static partial void Listed(ILogger logger, string device, long files, int folders, long unchanged);

    [LoggerMessage(1206, LogLevel.Warning, "ActiveSync: {Device}: {Path} could not be read: {Reason}")]
    public static partial void FileProblem(ILogger logger, string device, string path, string reason);

    [LoggerMessage(1207, LogLevel.Information, "ActiveSync: {Remote}: {Device} stays connected until it leaves: {Outcome}")]
    public static partial void Idle(ILogger logger, string remote, string device, string outcome);

    [LoggerMessage(1208, LogLevel.Warning, "ActiveSync: could not send the trigger to {Device}: {Reason}")]
    public static partial void TriggerFailed(ILogger logger, string device, string reason);

    [LoggerMessage(1220, LogLevel.Information, "ActiveSync: {Remote}: restoring snapshot {Snapshot} ({Path}) onto {Device}, which is {Standing} here")]
    public static partial void RestoreStarted(ILogger logger, string remote, string device, long snapshot, string path, string standing);

    [LoggerMessage(1221, LogLevel.Information, "ActiveSync: {Remote}: {Device}: {Outcome}")]
    public static partial void Restored(ILogger logger, string remote, string device, string outcome);

    [LoggerMessage(1222, LogLevel.Warning, "ActiveSync: {Remote}: {Device}: {Outcome}")]
    public static partial void RestoreIncomplete(ILogger logger, string remote, string device, string outcome);

    [LoggerMessage(1223, LogLevel.Warning, "ActiveSync: {Remote}: renaming {Device} to {NewName} at the operator's request ({Standing} here): its partnerships end (P8)")]
    public static partial void RenameStarted(ILogger logger, string remote, string device, string newName, string standing);

    [LoggerMessage(1224, LogLevel.Information, "ActiveSync: {Remote}: {Device} is now {NewName} ({Ended} partnerships ended); it is triggered again to partner under its new name")]
    public static partial void Renamed(ILogger logger, string remote, string device, string newName, int ended);

    [LoggerMessage(1225, LogLevel.Warning, "ActiveSync: {Remote}: {Device}: {Outcome}")]
    public static partial void RenameFailed(ILogger logger, string remote, string device, string outcome);

    [LoggerMessage(1240, LogLevel.Warning, "ActiveSync: {Device} opened {Opened} of the {Wanted} RAPI sessions asked for; the backup runs on those: {Reason}")]
    public static partial void FewerSessions(ILogger logger, string device, int opened, int wanted, string reason);

    [LoggerMessage(1245, LogLevel.Information, "ActiveSync: {Device}: {Files} files of {Bytes} bytes listed in {Folders} folders on {Sessions} RAPI sessions; backing up (files unchanged since the last snapshot are not read)")]
    public static partial void Listing(ILogger logger, string device, int files, long bytes, int folders, int sessions);

    [LoggerMessage(1241, LogLevel.Information, "ActiveSync: {Interface} appeared (driver {Driver}): watching it for a device")]
    public static partial void InterfaceFound(ILogger logger, string @interface, string driver);

    [LoggerMessage(1242, LogLevel.Information, "ActiveSync: {Interface} is gone: no longer watched")]
    public static partial void InterfaceGone(ILogger logger, string @interface);

    [LoggerMessage(1243, LogLevel.Information, "ActiveSync: watching for interfaces whose driver is {Drivers} (--activesync auto)")]
    public static partial void AutoWatch(ILogger logger, string drivers);

    [LoggerMessage(1244, LogLevel.Information, "ActiveSync: {Remote}: {Device} is still cradled: backed up again (every {Minutes} min)")]
    public static partial void BackupAgain(ILogger logger, string remote, string device, double minutes);
}
