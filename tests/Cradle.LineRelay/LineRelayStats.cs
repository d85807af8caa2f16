namespace Cradle.LineRelay;

/// <summary>What the line did to the bytes sent one way since the relay started.</summary>
/// <remarks>
/// A delivered byte is counted just after the write that delivered it, so a fast reader can hold
/// bytes a moment before <see cref="BytesForwarded"/> shows them.
/// </remarks>
/// <param name="BytesForwarded">Bytes delivered to the receiving program's port, garbled or not.</param>
/// <param name="BitsFlipped">Bits inverted by the bit error rate as bytes came onto the line.</param>
/// <param name="BytesDropped">Bytes lost to the drop rate.</param>
/// <param name="BytesGarbled">Delivered bytes replaced by garbage because of a baud mismatch.</param>
/// <param name="BytesDiscarded">Bytes thrown away because the line was cut.</param>
public sealed record LineDirectionStats(
    long BytesForwarded,
    long BitsFlipped,
    long BytesDropped,
    long BytesGarbled,
    long BytesDiscarded)
{
    public override string ToString() =>
        $"forwarded={BytesForwarded} bits_flipped={BitsFlipped} dropped={BytesDropped} garbled={BytesGarbled} discarded={BytesDiscarded}";
}

/// <summary>The relay's counters, each direction on its own.</summary>
public sealed record LineRelayStats(LineDirectionStats DeviceToHost, LineDirectionStats HostToDevice)
{
    public override string ToString() => $"device->host {DeviceToHost}; host->device {HostToDevice}";
}
