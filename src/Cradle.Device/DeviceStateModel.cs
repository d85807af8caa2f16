using System.Text.Json.Serialization;

namespace Cradle.Device;

/// <summary>The persistent part of a device's state (survives a cold boot): <c>persistent/device.json</c>.</summary>
public sealed record DeviceIdentity
{
    public int Version { get; init; } = 1;
    public required string Name { get; init; }
    public string Model { get; init; } = "cradle-device";
    public required List<DataFolder> Folders { get; init; }

    /// <summary>Exclude patterns for every data folder (gitignore-style, <see cref="ExcludeRules"/>); null or empty: none.</summary>
    public List<string>? Exclude { get; init; }

    /// <summary>A random key kept for reclaiming a partnership after a cold boot (P9), base64.</summary>
    public required string RecoveryKey { get; init; }

    public long CreatedUnixMs { get; init; }
}

/// <summary>
/// A folder whose files are backed up; <see cref="Label"/> is its first path segment in
/// snapshots; <see cref="Exclude"/>: patterns for this folder only, besides the global ones.
/// </summary>
public sealed record DataFolder(string Label, string Path)
{
    public List<string>? Exclude { get; init; }
}

/// <summary>The volatile part: the partnerships (P6 deletes from here): <c>volatile/partnerships.json</c>.</summary>
public sealed record PartnershipsFile
{
    public int Version { get; init; } = 1;
    public List<PartnershipSlot> Slots { get; init; } = [];

    /// <summary>
    /// A partnership the host made but this device's user has not accepted yet (a new network
    /// host needs both sides' consent): it sends nothing under it until
    /// <c>--accept-new-host CODE</c> (or the prompt) accepts it, then it becomes a slot. At most one;
    /// a cold boot or a rename drops it like the slots.
    /// </summary>
    public PartnershipSlot? Candidate { get; init; }
}

/// <summary>One partnership as the device keeps it: with which host, its number and secret, the pinned certificate.</summary>
public sealed record PartnershipSlot
{
    public required string HostId { get; init; }
    public required string HostName { get; init; }
    public required string Address { get; init; }
    public required uint Number { get; init; }
    public required string Secret { get; init; }
    public required string CertificateSha256 { get; init; }
    public required long CreatedUnixMs { get; init; }
    public LastBackup? LastBackup { get; init; }

    /// <summary>A candidate's code, the one the user must accept it with (null on a slot).</summary>
    public string? Code { get; init; }
}

/// <summary>
/// The last committed backup to one host. <c>Problems</c>: what it could not read (a partial
/// snapshot: earlier versions stand in for it), each as "path: reason"; <c>Note</c>: why the
/// snapshot is flagged (partial, empty, most files vanished), null when it is complete;
/// <c>Unchanged</c>: nothing had changed, the host verified its earlier snapshot.
/// </summary>
public sealed record LastBackup(long TimeUnixMs, long SnapshotId, long Files, long Bytes, long WireBytes, string Link)
{
    /// <summary>Most problems kept with the last backup (the count is in the note).</summary>
    public const int MaxProblemsKept = 20;

    public bool Partial { get; init; }

    public bool Unchanged { get; init; }

    /// <summary>The highest zstd level the backup's chunks were sent at; null when none was sent (or recorded by an older agent).</summary>
    public int? CompressionLevel { get; init; }

    public string? Note { get; init; }

    public List<string>? Problems { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(DeviceIdentity))]
[JsonSerializable(typeof(PartnershipsFile))]
[JsonSerializable(typeof(DeviceStatus))]
public sealed partial class DeviceStateJson : JsonSerializerContext;

/// <summary>The control socket's JSON: one object per line, so never indented.</summary>
[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ControlReply))]
internal sealed partial class ControlJson : JsonSerializerContext;
