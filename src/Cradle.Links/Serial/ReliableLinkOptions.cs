namespace Cradle.Links.Serial;

/// <summary>Timing and sizes of the serial link layer.</summary>
public sealed record ReliableLinkOptions
{
    /// <summary>
    /// Frames this side keeps ahead of the next one it expects (its receive window, stated to the
    /// peer) and at most keeps in flight itself: a power of two, at most 32 (the SACK bitmap). The
    /// sender uses the smaller of this and the peer's window (8 for a first-release peer).
    /// </summary>
    public int Window { get; init; } = LinkCapabilities.MaxWindow;

    /// <summary>Retransmission timeout before the first round trip was measured.</summary>
    public TimeSpan InitialRetransmitTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MinRetransmitTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxRetransmitTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>
    /// Give up when the link makes no progress for this long while it has bytes to deliver: no
    /// frame of ours acknowledged, no new frame from the peer. The line is stalled or the peer is
    /// gone. <c>--keepalive-timeout</c> sets it on both sides (as it sets the message layer's).
    /// </summary>
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Received bytes the reader has not taken yet above which new frames are dropped (and resent later).</summary>
    public int MaxBufferedBytes { get; init; } = 256 * 1024;

    /// <summary>Bytes written and not yet cut into frames above which a writer waits.</summary>
    public int MaxUnsentBytes { get; init; } = 64 * 1024;

    /// <summary>Choose each frame's size from the losses seen (<see cref="FrameSizer"/>); off: always the largest.</summary>
    public bool AdaptFrameSize { get; init; } = true;

    /// <summary>
    /// The link-layer version this side states: <see cref="LinkCapabilities.CurrentVersion"/>;
    /// tests set 1 to stand for a side of the first release (states nothing, keeps 8 frames ahead).
    /// </summary>
    internal byte Version { get; init; } = LinkCapabilities.CurrentVersion;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>What this side states in its Offer or Answer.</summary>
    public LinkCapabilities Capabilities => Version <= 1 ? LinkCapabilities.First : new LinkCapabilities(Version, (byte)Window);

    /// <summary>Throws when a value is out of range.</summary>
    public ReliableLinkOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Window, 1, nameof(Window));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Window, LinkCapabilities.MaxWindow, nameof(Window));
        if (!int.IsPow2(Window))
        {
            // Slots are indexed by sequence number modulo the window, across the 16-bit wrap.
            throw new ArgumentOutOfRangeException(nameof(Window), Window, "the window must be a power of two");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DeadAfter, TimeSpan.Zero, nameof(DeadAfter));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUnsentBytes, LinkFrame.MaxPayload, nameof(MaxUnsentBytes));
        return this;
    }
}
