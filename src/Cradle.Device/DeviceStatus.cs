namespace Cradle.Device;

/// <summary>What <c>cradle device status</c> shows: the link now and the last backup.</summary>
public sealed record DeviceStatus
{
    public required string Device { get; init; }
    public bool Connected { get; init; }
    public string? Host { get; init; }
    public string? Address { get; init; }
    public string? Link { get; init; }
    public string Phase { get; init; } = "idle";
    public BackupProgress? Progress { get; init; }
    public LastBackupStatus? LastBackup { get; init; }
    public string? LastError { get; init; }

    /// <summary>When the agent tries to connect again after a failure (null while connected or not waiting).</summary>
    public DateTimeOffset? NextAttempt { get; init; }

    /// <summary>Sessions that failed in a row; the agent keeps trying, waiting longer each time (up to a minute).</summary>
    public int Failures { get; init; }
}

/// <summary>
/// The most recent committed backup, to any host. <c>Status</c>: complete, or why not (partial,
/// empty, suspect) with <c>Note</c> in words and <c>Problems</c> ("path: reason", the first
/// few); <c>Unchanged</c>: nothing had changed, the host verified its earlier snapshot.
/// </summary>
public sealed record LastBackupStatus(string Host, DateTimeOffset Time, long Snapshot, long Files, long Bytes, long WireBytes, string Link)
{
    public string Status { get; init; } = "complete";

    public bool Partial { get; init; }

    public bool Unchanged { get; init; }

    /// <summary>The highest zstd level its chunks were sent at (<see cref="LastBackup.CompressionLevel"/>).</summary>
    public int? CompressionLevel { get; init; }

    public string? Note { get; init; }

    public List<string>? Problems { get; init; }

    /// <summary>The newest backup recorded in the device's partnerships, or null when there was none.</summary>
    public static LastBackupStatus? From(IEnumerable<PartnershipSlot> slots) =>
        slots.Where(s => s.LastBackup is not null)
            .OrderByDescending(s => s.LastBackup!.TimeUnixMs)
            .Select(s => new LastBackupStatus(s.HostName, DateTimeOffset.FromUnixTimeMilliseconds(s.LastBackup!.TimeUnixMs), s.LastBackup.SnapshotId, s.LastBackup.Files, s.LastBackup.Bytes, s.LastBackup.WireBytes, s.LastBackup.Link)
            {
                Status = s.LastBackup.Partial ? "partial" : s.LastBackup.Note is null ? "complete" : s.LastBackup.Note.StartsWith("empty", StringComparison.Ordinal) ? "empty" : "suspect",
                Partial = s.LastBackup.Partial,
                Unchanged = s.LastBackup.Unchanged,
                CompressionLevel = s.LastBackup.CompressionLevel,
                Note = s.LastBackup.Note,
                Problems = s.LastBackup.Problems,
            })
            .FirstOrDefault();
}
