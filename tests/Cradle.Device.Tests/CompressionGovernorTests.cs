using Cradle.Content;

namespace Cradle.Device.Tests;

/// <summary>
/// The device's choice of zstd level from what it measures (the governor is fed measurements in
/// ticks of a 1,000-tick second: no clock, no timing in the test).
/// </summary>
public sealed class CompressionGovernorTests
{
    private const long Second = 1000;

    [Fact]
    public void A_slow_link_that_leaves_the_processor_waiting_raises_the_level_step_by_step_to_the_highest()
    {
        // A serial line: 64 KiB compresses in 1 ms and its 16 KiB take 1.4 s to send.
        var governor = new CompressionGovernor(Second);
        var seen = new List<int> { governor.Level };
        for (var chunk = 0; chunk < 10; chunk++)
        {
            governor.Record(compressTicks: 1, sendTicks: 1400, wireBytes: 16 * 1024);
            seen.Add(governor.Level);
        }

        Assert.Equal(CompressionGovernor.Levels, seen.Distinct());
        Assert.Equal(CompressionGovernor.Levels[^1], governor.Level);
        Assert.Equal(CompressionGovernor.Levels[^1], governor.HighestLevel);
    }

    [Fact]
    public void A_fast_link_keeps_the_default_level_even_when_sends_wait()
    {
        // Loopback to a busy host: sends wait on the host ten times as long as compressing, but
        // the link moves 40 MB/s: a harder level would only add work.
        var governor = new CompressionGovernor(Second);
        for (var chunk = 0; chunk < 100; chunk++)
        {
            governor.Record(compressTicks: 1, sendTicks: 10, wireBytes: 400_000);
        }

        Assert.Equal(ChunkCodec.DefaultLevel, governor.Level);
        Assert.Equal(ChunkCodec.DefaultLevel, governor.HighestLevel);
    }

    [Fact]
    public void When_compressing_stops_being_cheap_beside_sending_the_level_falls_back()
    {
        var governor = new CompressionGovernor(Second);
        for (var chunk = 0; chunk < 3; chunk++)
        {
            governor.Record(compressTicks: 10, sendTicks: 1000, wireBytes: 16 * 1024);
        }

        var raised = governor.Level;
        Assert.True(raised > ChunkCodec.DefaultLevel);

        // The data turned hard to compress (or the link faster): compressing now takes as long as sending.
        governor.Record(compressTicks: 200, sendTicks: 200, wireBytes: 64 * 1024);
        Assert.True(governor.Level < raised);
        Assert.Equal(raised, governor.HighestLevel);
    }

    [Fact]
    public void Waiting_for_the_hosts_answer_behind_the_link_counts_as_the_link()
    {
        // Sends return at once (megabytes of socket buffer); the wait is for the answer to the
        // next batch's query, which comes behind the chunks still on a 1 MB/s link.
        var governor = new CompressionGovernor(Second);
        for (var batch = 0; batch < 4; batch++)
        {
            governor.RecordLinkWait(2000);
            for (var chunk = 0; chunk < 30; chunk++)
            {
                governor.Record(compressTicks: 1, sendTicks: 0, wireBytes: 64 * 1024);
            }
        }

        Assert.Equal(CompressionGovernor.Levels[^1], governor.Level);
    }

    [Fact]
    public void A_few_chunks_do_not_decide_alone()
    {
        // Less than a quarter of a second measured: no decision yet, however link-bound.
        var governor = new CompressionGovernor(Second);
        governor.Record(compressTicks: 1, sendTicks: 100, wireBytes: 1024);
        governor.Record(compressTicks: 1, sendTicks: 100, wireBytes: 1024);
        Assert.Equal(ChunkCodec.DefaultLevel, governor.Level);
        governor.Record(compressTicks: 1, sendTicks: 100, wireBytes: 1024);
        Assert.True(governor.Level > ChunkCodec.DefaultLevel);
    }
}
