using System.Text.Json.Serialization;
using Cradle.Host.ActiveSync;
using Cradle.Store;

namespace Cradle.Host.Dashboard;

/// <summary>An error as every endpoint reports it.</summary>
public sealed record ApiError(string Error);

/// <summary><c>GET /api/v1/host</c>: who this host is and how the dashboard runs.</summary>
public sealed record HostInfo(string Name, string DataFolder, string? Sessions, string Dashboard, bool TokenRequired, double OverdueAfterHours, List<string> SerialPorts, List<string> UsbInterfaces);

/// <summary>
/// A file or folder directly inside the folder being browsed; a folder's size and files count
/// what is under it. <c>Problem</c>: in a partial snapshot, why this entry is an earlier
/// snapshot's version (it could not be read), or that something beneath it could not be read.
/// </summary>
public sealed record EntryRow(string Name, string Path, string Kind, long Size, long Files, DateTimeOffset? Modified, string? Problem = null);

/// <summary><c>GET /api/v1/snapshots/{id}/entries</c>: one folder of a snapshot.</summary>
public sealed record EntryListing(SnapshotRow Snapshot, string Path, List<EntryRow> Entries);

/// <summary><c>POST /api/v1/snapshots/{id}/restore</c>: the folder on the host to restore into (absolute; absent or empty).</summary>
public sealed record RestoreRequest(string To);

/// <summary>What a restore to a folder on the host did.</summary>
public sealed record RestoreDone(long Snapshot, string Device, string To, long Files, long Folders, long Bytes);

/// <summary><c>POST /api/v1/get-connected</c>: extra ports, one rate only, seconds per rate (all optional).</summary>
public sealed record GetConnectedRequest(List<string>? Ports, int? Baud, double? ListenSeconds);

/// <summary>A port for the host to watch from now on (<c>POST /api/v1/serial-ports</c>); no rate: it scans the common ones.</summary>
public sealed record WatchSerialPortRequest(string? Port, int? Baud);

/// <summary>The port as the host watches it (PORT or PORT@BAUD); <c>Started</c> false when it watched it already.</summary>
public sealed record WatchSerialPortDone(string Port, bool Started);

/// <summary><c>POST /api/v1/check</c>: also read every chunk (slow).</summary>
public sealed record CheckRequest(bool ReadData);

/// <summary><c>POST /api/v1/devices/{name}/restore-to-device</c>: the snapshot (default: the newest), the part of it (default: all), and the operator's consent for a guest (P3).</summary>
public sealed record DeviceRestoreRequest(long? Snapshot, string? Path, bool AllowGuest);

/// <summary>One line of a restore onto a device: <c>progress</c>, then <c>done</c> (with the result) or <c>failed</c> (with the error).</summary>
public sealed record DeviceRestoreEvent(string Event, DeviceRestoreProgress? Progress, DeviceRestoreResult? Result, string? Error);

/// <summary><c>POST /api/v1/activesync/rename</c>: the device (and its connection, ADDR:PORT, when two carry its name), the new name, and the operator's consent to end its partnerships (P8).</summary>
public sealed record DeviceRenameRequest(string? Device, string? Connection, string? NewName, bool Consent);

/// <summary><c>GET /api/v1/activesync/devices</c>: a cradled ActiveSync device, where it is connected from, and how it stands here (partnered, not-partnered, guest; null while connecting).</summary>
public sealed record ActiveSyncDeviceRow(string Device, string Connection, string? Standing);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(HostInfo))]
[JsonSerializable(typeof(List<DeviceRow>))]
[JsonSerializable(typeof(List<SnapshotRow>))]
[JsonSerializable(typeof(List<PendingRow>))]
[JsonSerializable(typeof(List<PortRow>))]
[JsonSerializable(typeof(EntryListing))]
[JsonSerializable(typeof(RestoreRequest))]
[JsonSerializable(typeof(RestoreDone))]
[JsonSerializable(typeof(DecisionDone))]
[JsonSerializable(typeof(ForgetResult))]
[JsonSerializable(typeof(GetConnectedRequest))]
[JsonSerializable(typeof(WatchSerialPortRequest))]
[JsonSerializable(typeof(WatchSerialPortDone))]
[JsonSerializable(typeof(CheckRequest))]
[JsonSerializable(typeof(DeviceRestoreRequest))]
[JsonSerializable(typeof(DeviceRestoreEvent))]
[JsonSerializable(typeof(DeviceRenameRequest))]
[JsonSerializable(typeof(DeviceRenameResult))]
[JsonSerializable(typeof(List<ActiveSyncDeviceRow>))]
[JsonSerializable(typeof(CheckResult))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(SessionsView))]
internal sealed partial class DashboardJson : JsonSerializerContext;
