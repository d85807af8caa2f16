using System.Text.Json;
using System.Text.Json.Serialization;
using Cradle.Device;
#if !CRADLE_DEVICE_ONLY
using Cradle.Host;
#endif

namespace Cradle.Cli;

/// <summary>A partnership as <c>cradle device partnerships --json</c> shows it.</summary>
internal sealed record PartnershipRow(string Host, string HostId, string Address, uint Number, string NumberHex, DateTimeOffset Created, LastBackupStatus? LastBackup);

/// <summary>
/// The result of a backup as <c>cradle device connect --once --json</c> prints it. <c>Files</c>
/// and <c>Bytes</c>: what the device sent; <c>SnapshotFiles</c>, <c>SnapshotBytes</c>: the
/// snapshot's, with what the host carried forward for <c>Problems</c>. <c>Status</c>: complete,
/// partial, empty or suspect (exit code 6 for all but complete); <c>Unchanged</c>: no new
/// snapshot, the earlier one <c>Snapshot</c> was verified.
/// </summary>
internal sealed record BackupRow(string Host, long Snapshot, long Files, long Bytes, long FilesRead, long BytesRead, long ChunksSent, long WireBytesSent, long WireBytesReceived, double Seconds, int Skipped)
{
    public string Status { get; init; } = "complete";

    public bool Unchanged { get; init; }

    public string? Note { get; init; }

    public long CarriedForward { get; init; }

    public long SnapshotFiles { get; init; }

    public long SnapshotBytes { get; init; }

    /// <summary>The zstd level of the last chunk sent and the highest used; 0 when none was sent.</summary>
    public int CompressionLevel { get; init; }

    public int HighestCompressionLevel { get; init; }

    public List<BackupProblemRow> Problems { get; init; } = [];
}

/// <summary>Something a backup could not read: its snapshot path, its path on the device, why, and whether it is a folder.</summary>
internal sealed record BackupProblemRow(string Path, string FullPath, string Reason, bool Folder);

/// <summary>A restore onto the device as <c>cradle device restore --json</c> prints it.</summary>
internal sealed record RestoreRow(string Host, long Snapshot, string Device, DateTimeOffset Time, string Grounds, bool Guest, List<string> Restored, List<RestoreIssueRow> Skipped, List<RestoreIssueRow> Failed, long Bytes);

/// <summary>A skipped or failed path of a restore, and why.</summary>
internal sealed record RestoreIssueRow(string Path, string Reason);

/// <summary>One effective setting as <c>cradle host config --json</c> shows it: a list setting has values, the others a value.</summary>
internal sealed record ConfigRow(
    string Key,
    string Environment,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<string>? Values,
    string Source);

/// <summary>The effective settings of one side and the file they were read from.</summary>
internal sealed record ConfigReport(string Section, string File, bool FileExists, List<ConfigRow> Settings);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ErrorRow))]
[JsonSerializable(typeof(FoldersReport))]
#if !CRADLE_DEVICE_ONLY
[JsonSerializable(typeof(List<DeviceRow>))]
[JsonSerializable(typeof(List<SnapshotRow>))]
#endif
[JsonSerializable(typeof(List<PartnershipRow>))]
#if !CRADLE_DEVICE_ONLY
[JsonSerializable(typeof(List<PendingRow>))]
#endif
[JsonSerializable(typeof(BackupRow))]
[JsonSerializable(typeof(RestoreRow))]
#if !CRADLE_DEVICE_ONLY
[JsonSerializable(typeof(List<PortRow>))]
#endif
[JsonSerializable(typeof(DeviceStatus))]
[JsonSerializable(typeof(ConfigReport))]
// The host's rows: cradle-device (CRADLE_DEVICE_ONLY) has no host or store to report on.
#if !CRADLE_DEVICE_ONLY
[JsonSerializable(typeof(Cradle.Host.CheckResult))]
[JsonSerializable(typeof(Cradle.Host.PruneResult))]
[JsonSerializable(typeof(Cradle.Host.ActiveSync.DeviceRestoreResult))]
[JsonSerializable(typeof(Cradle.Host.Dashboard.DeviceRestoreRequest))]
[JsonSerializable(typeof(Cradle.Host.Dashboard.DeviceRestoreEvent))]
[JsonSerializable(typeof(Cradle.Host.Dashboard.ApiError))]
[JsonSerializable(typeof(Cradle.Host.Dashboard.DeviceRenameRequest))]
[JsonSerializable(typeof(Cradle.Host.ActiveSync.DeviceRenameResult))]
#endif
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>The same types and names, with quotes and apostrophes in messages and paths left as they are (no \u0027).</summary>
    private static JsonSerializerOptions? _readable;

    private static JsonSerializerOptions Readable => _readable ??= new JsonSerializerOptions(Default.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Print<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Console.Out.WriteLine(Serialize(value, type));

    /// <summary>JSON text for the console (readable escaping; <paramref name="type"/> names the type the context made).</summary>
    public static string Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.Serialize(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)Readable.GetTypeInfo(type.Type));
}
