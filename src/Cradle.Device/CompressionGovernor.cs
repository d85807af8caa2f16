using System.Diagnostics;
using Cradle.Content;

namespace Cradle.Device;

/// <summary>
/// Chooses the zstd level of a backup's chunks from what the session measures, chunk by chunk:
/// how long compressing took and how long the link took to take the result (the sends, and the
/// waits for the host's answers, which come behind the chunks on the link). On a slow link (a
/// serial line, USB 1.1) the device's processor waits on the link most of the time, and a harder
/// level turns that idle time into fewer bytes on the wire; on a fast link the default level
/// keeps the device from becoming the bottleneck. The level only rises while the link is the
/// bottleneck by a wide margin (sending at least <see cref="LinkBoundFactor"/> times as long as
/// compressing, so the next level, a few times slower, still leaves the processor waiting) and
/// the link is slow in absolute terms (under <see cref="SlowLinkBytesPerSecond"/>: a host that is
/// slow to read on a fast link also makes sends wait, and a harder level would only add work on
/// the shared processor); it falls back when compressing stops being cheap beside sending.
/// The host verifies and stores chunks whatever their level: no protocol change.
/// </summary>
internal sealed class CompressionGovernor
{
    /// <summary>The levels tried, from the default up. 12 is the last: above it zstd's tables for a 1 MiB chunk take tens of MiB on the device.</summary>
    public static readonly int[] Levels = [ChunkCodec.DefaultLevel, 6, 9, 12];

    /// <summary>Rise only when sending took this many times as long as compressing.</summary>
    public const int LinkBoundFactor = 8;

    /// <summary>Fall back when sending took less than this many times as long as compressing.</summary>
    public const int CpuBoundFactor = 2;

    /// <summary>Links slower than this (bytes on the wire per second while sending) may get a harder level: USB 2.0's 100 Mbit/s and below.</summary>
    public const long SlowLinkBytesPerSecond = 16L * 1024 * 1024;

    private readonly long _ticksPerSecond;

    // Measured at least this long (compressing plus sending, a quarter of a second) before a
    // decision, so a few chunks do not decide alone.
    private readonly long _window;
    private int _step;
    private long _compressTicks;
    private long _sendTicks;
    private long _wireBytes;

    /// <summary>A governor measuring in <see cref="Stopwatch"/> ticks, or (tests) in ticks of <paramref name="ticksPerSecond"/>.</summary>
    public CompressionGovernor(long ticksPerSecond = 0)
    {
        _ticksPerSecond = ticksPerSecond > 0 ? ticksPerSecond : Stopwatch.Frequency;
        _window = _ticksPerSecond / 4;
    }

    /// <summary>The level for the next chunk.</summary>
    public int Level => Levels[_step];

    /// <summary>The highest level the session used.</summary>
    public int HighestLevel { get; private set; } = Levels[0];

    /// <summary>
    /// Time spent waiting for the host's answer to a batch's query: it comes behind the chunks
    /// still on the link, so on a slow link whose socket buffers hold megabytes this is where the
    /// device waits for the link (its sends return at once). Counted as sending time.
    /// </summary>
    public void RecordLinkWait(long ticks) => _sendTicks += ticks;

    /// <summary>
    /// One chunk: <paramref name="compressTicks"/> spent compressing it, <paramref name="sendTicks"/>
    /// waiting for the link to take its <paramref name="wireBytes"/>. Changes <see cref="Level"/>
    /// when a window's measurements call for it.
    /// </summary>
    public void Record(long compressTicks, long sendTicks, long wireBytes)
    {
        _compressTicks += compressTicks;
        _sendTicks += sendTicks;
        _wireBytes += wireBytes;
        if (_compressTicks + _sendTicks < _window)
        {
            return;
        }

        var linkBound = _sendTicks >= LinkBoundFactor * _compressTicks;
        var slowLink = _wireBytes * _ticksPerSecond < SlowLinkBytesPerSecond * Math.Max(1, _sendTicks);
        if (linkBound && slowLink && _step < Levels.Length - 1)
        {
            _step++;
            HighestLevel = Math.Max(HighestLevel, Level);
        }
        else if (_sendTicks < CpuBoundFactor * _compressTicks && _step > 0)
        {
            _step--;
        }

        _compressTicks = 0;
        _sendTicks = 0;
        _wireBytes = 0;
    }
}
