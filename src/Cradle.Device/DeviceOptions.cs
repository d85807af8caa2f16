using Cradle.Links;

namespace Cradle.Device;

/// <summary>How a device connects. Immutable.</summary>
public sealed record DeviceOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the device waits for the host's operator to approve a new partnership.</summary>
    public TimeSpan ApprovalWait { get; init; } = TimeSpan.FromMinutes(10);

    public ChannelOptions Channel { get; init; } = new();

    /// <summary>How long a serial connect keeps offering its session before giving up.</summary>
    public TimeSpan SerialOfferTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public Links.Serial.ReliableLinkOptions SerialLink { get; init; } = new();

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Chunk data gathered before the device asks the host which chunks it lacks.</summary>
    public int BatchBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Most chunk ids in one query (the host accepts up to 4096).</summary>
    public int BatchChunks { get; init; } = 2048;

    /// <summary>
    /// How many more times a file that changed while it was read is read again before the backup
    /// gives up on it (the host then keeps its earlier version and the snapshot is partial).
    /// </summary>
    public int ChangedFileRetries { get; init; } = 2;

    /// <summary>The pause before each such read: a copy finishing into place is often done by then.</summary>
    public TimeSpan ChangedFileRetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The data folders to back up instead of the state folder's (cradle.json "folders"); null: the state's.</summary>
    public IReadOnlyList<DataFolder>? Folders { get; init; }

    /// <summary>Exclude patterns for every folder instead of the state folder's (cradle.json "exclude"); null: the state's.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>The identity with the folders and patterns these options name in place of its own.</summary>
    public DeviceIdentity Select(DeviceIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Folders is null && Exclude is null
            ? identity
            : identity with { Folders = Folders is null ? identity.Folders : [.. Folders], Exclude = Exclude is null ? identity.Exclude : [.. Exclude] };
    }
}
