using System.Text.Json;
using System.Text.Json.Serialization;
using Cradle.Device;
using Cradle.Host;

namespace Cradle.Cli;

/// <summary>A partnership as <c>cradle device partnerships --json</c> shows it.</summary>
internal sealed record PartnershipRow(string Host, string HostId, string Address, uint Number, string NumberHex, DateTimeOffset Created, LastBackupStatus? LastBackup);

/// <summary>The result of a backup as <c>cradle device connect --once --json</c> prints it.</summary>
internal sealed record BackupRow(string Host, long Snapshot, long Files, long Bytes, long FilesRead, long BytesRead, long ChunksSent, long WireBytesSent, long WireBytesReceived, double Seconds, int Skipped);

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
[JsonSerializable(typeof(List<DeviceRow>))]
[JsonSerializable(typeof(List<SnapshotRow>))]
[JsonSerializable(typeof(List<PartnershipRow>))]
[JsonSerializable(typeof(List<PendingRow>))]
[JsonSerializable(typeof(BackupRow))]
[JsonSerializable(typeof(RestoreRow))]
[JsonSerializable(typeof(List<PortRow>))]
[JsonSerializable(typeof(DeviceStatus))]
[JsonSerializable(typeof(ConfigReport))]
[JsonSerializable(typeof(Cradle.Store.CheckReport))]
[JsonSerializable(typeof(Cradle.Store.PruneReport))]
internal sealed partial class CliJson : JsonSerializerContext
{
    public static void Print<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, type));
}
