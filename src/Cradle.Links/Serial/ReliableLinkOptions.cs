namespace Cradle.Links.Serial;

/// <summary>Timing and sizes of the serial link layer.</summary>
public sealed record ReliableLinkOptions
{
    /// <summary>Frames in flight before the sender waits for an acknowledgement (a power of two, at most 32: the SACK bitmap).</summary>
    public int Window { get; init; } = 8;

    /// <summary>Retransmission timeout before the first round trip was measured.</summary>
    public TimeSpan InitialRetransmitTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MinRetransmitTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxRetransmitTimeout { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Give up when sent bytes stay unacknowledged for this long: the line is stalled or the peer gone.</summary>
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Received bytes the reader has not taken yet above which new frames are dropped (and resent later).</summary>
    public int MaxBufferedBytes { get; init; } = 256 * 1024;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws when a value is out of range.</summary>
    public ReliableLinkOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Window, 1, nameof(Window));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Window, 32, nameof(Window));
        if (!int.IsPow2(Window))
        {
            // Slots are indexed by sequence number modulo the window, across the 16-bit wrap.
            throw new ArgumentOutOfRangeException(nameof(Window), Window, "the window must be a power of two");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DeadAfter, TimeSpan.Zero, nameof(DeadAfter));
        return this;
    }
}
