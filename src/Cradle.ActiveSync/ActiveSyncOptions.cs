using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync;

/// <summary>
/// Timeouts and limits of an ActiveSync device session. Immutable; <see cref="Validate"/> is called
/// by everything that takes one, so a bad value fails at start, not mid-backup.
/// </summary>
public sealed record ActiveSyncOptions
{
    /// <summary>The most one read-file request asks for; a reply's length is capped by what was asked.</summary>
    public const int MaxReadBlockSize = 1024 * 1024;

    /// <summary>Each step of the DCCM handshake (the device's next word, the info message).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a RAPI call may wait for its reply before the session is declared dead.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the device may take to open the RAPI connection the host asked for.</summary>
    public TimeSpan RapiConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The DCCM keepalive (vdccm's: the host sends 1, the device answers 2). Zero turns it off.
    /// A device that has never answered one is not dropped for missing the next (dccm sends none,
    /// so a device may not know them); one that answered and then stops is.
    /// </summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Unanswered keepalives in a row that end the session (vdccm: 3).</summary>
    public int KeepaliveMisses { get; init; } = 3;

    /// <summary>How long a Windows Mobile 6 device may take to be unlocked by the person holding it.</summary>
    public TimeSpan UnlockOnDeviceTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// RAPI requests one session keeps in flight before waiting for a reply. A small file costs
    /// four (open, a read, the read that finds its end, close) over two round trips, so with 8 the
    /// four sessions moved at most 8 small files per round trip: 7 MB/s of 50 KiB files at 50 ms,
    /// below a USB 2.0 link (bench/activesync.sh).
    /// </summary>
    public int MaxRequestsInFlight { get; init; } = 16;

    /// <summary>
    /// RAPI sessions a backup opens to the device (the first one included): listings and file
    /// reads run on all of them at once, so round trips of small files and folders overlap. A
    /// device that refuses more is served with the ones it opened.
    /// </summary>
    public int RapiSessions { get; init; } = 4;

    /// <summary>Bytes asked for by one read-file request (SynCE's pcp asks for 64 KiB).</summary>
    public int ReadBlockSize { get; init; } = 64 * 1024;

    /// <summary>The largest reply a listing or a registry call may send.</summary>
    public int MaxListingReplyLength { get; init; } = 8 * 1024 * 1024;

    /// <summary>Entries one folder listing may hold.</summary>
    public int MaxEntriesPerFolder { get; init; } = 100_000;

    /// <summary>Folder depth the device walk descends to.</summary>
    public int MaxFolderDepth { get; init; } = 64;

    /// <summary>Forces a RAPI version instead of choosing it from the device's OS version.</summary>
    public RapiVersion? RapiVersionOverride { get; init; }

    /// <summary>The clock of every timeout and keepalive.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ActiveSyncOptions Validate()
    {
        Positive(HandshakeTimeout, nameof(HandshakeTimeout));
        Positive(ReplyTimeout, nameof(ReplyTimeout));
        Positive(RapiConnectTimeout, nameof(RapiConnectTimeout));
        Positive(UnlockOnDeviceTimeout, nameof(UnlockOnDeviceTimeout));
        if (KeepaliveInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(KeepaliveInterval), KeepaliveInterval, "the keepalive interval is zero (off) or positive");
        }

        Range(KeepaliveMisses, 1, 100, nameof(KeepaliveMisses));
        Range(MaxRequestsInFlight, 1, 64, nameof(MaxRequestsInFlight));
        Range(RapiSessions, 1, 16, nameof(RapiSessions));
        Range(ReadBlockSize, 512, MaxReadBlockSize, nameof(ReadBlockSize));
        Range(MaxListingReplyLength, 4096, 256 * 1024 * 1024, nameof(MaxListingReplyLength));
        Range(MaxEntriesPerFolder, 1, 10_000_000, nameof(MaxEntriesPerFolder));
        Range(MaxFolderDepth, 1, 1024, nameof(MaxFolderDepth));
        return this;
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive");
        }
    }

    private static void Range(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}");
        }
    }
}
