using Cradle.Links;
using Cradle.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cradle.Device;

/// <summary>How a device connects. Immutable.</summary>
public sealed record DeviceOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>What <see cref="AcceptNewHost"/> takes to accept whichever host answers (lab setups, tests, the demo).</summary>
    public const string AnyHost = "any";

    /// <summary>
    /// This device's consent to a new network host: null asks the user (a terminal; without one the
    /// partnership waits, unused, for the next connect with the code), the six-digit code the host
    /// showed, or <see cref="AnyHost"/> (trust whichever host answers first; the pin still refuses
    /// a different host later). Serial and USB partnerships need none: the cable is the proof.
    /// </summary>
    public string? AcceptNewHost { get; init; }

    /// <summary>How long the device waits for the host's operator to approve a new partnership.</summary>
    public TimeSpan ApprovalWait { get; init; } = TimeSpan.FromMinutes(10);

    public ChannelOptions Channel { get; init; } = new();

    /// <summary>How long a serial connect keeps offering its session before giving up.</summary>
    public TimeSpan SerialOfferTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public Links.Serial.ReliableLinkOptions SerialLink { get; init; } = new();

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where the engine logs its events (<c>DeviceEngineLog</c>, ids 21xx); nowhere unless set.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// Chunk data gathered before the device asks the host which chunks it lacks. The device holds
    /// two batches (one read while the other is sent): 2 MiB each keeps a handheld's memory small
    /// and is still many round trips' worth of data on any link (with 8 MiB a 560 MB first backup
    /// held 12 MiB more at its peak and took as long, within the noise; with 1 MiB it held 2–3 MiB
    /// less but was slower on loopback, one more round trip per megabyte; docs/BENCHMARKS.md, "The
    /// device agent on its own").
    /// </summary>
    public int BatchBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>Most chunk ids in one query (at most <see cref="WireLimits.MaxQueryIds"/>, what the host accepts).</summary>
    public int BatchChunks { get; init; } = 2048;

    /// <summary>
    /// Chunks the device may owe the host (the cache said the host had them, the host said no)
    /// before it stops to read their files again and send them: a host of default settings refuses a
    /// session that owes more than <see cref="WireLimits.DefaultMaxOwedPerSession"/> (its memory is bounded per session).
    /// </summary>
    public int OwedBeforeReread { get; init; } = 16 * 1024;

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

    /// <summary>The most chunk data one batch may gather: the device holds two batches in memory.</summary>
    public const int MaxBatchBytes = 64 * 1024 * 1024;

    /// <summary>
    /// Checks these options against the wire limits both sides read (<see cref="WireLimits"/>), so a
    /// setting cannot make the device send what the host refuses; returns the options.
    /// </summary>
    public DeviceOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchChunks, 1, nameof(BatchChunks));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchChunks, WireLimits.MaxQueryIds, nameof(BatchChunks));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchBytes, 1, nameof(BatchBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchBytes, MaxBatchBytes, nameof(BatchBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(OwedBeforeReread, 1, nameof(OwedBeforeReread));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(OwedBeforeReread, WireLimits.DefaultMaxOwedPerSession, nameof(OwedBeforeReread));
        ArgumentOutOfRangeException.ThrowIfNegative(ChangedFileRetries, nameof(ChangedFileRetries));
        return this;
    }

    /// <summary>The identity with the folders and patterns these options name in place of its own.</summary>
    public DeviceIdentity Select(DeviceIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Folders is null && Exclude is null
            ? identity
            : identity with { Folders = Folders is null ? identity.Folders : [.. Folders], Exclude = Exclude is null ? identity.Exclude : [.. Exclude] };
    }
}
