namespace Cradle.Host.Tests.Dashboard;

/// <summary>The live board's progress, rate and ETA on a clock the test moves.</summary>
public sealed class LiveSessionsTests
{
    [Fact]
    public void Rate_and_ETA_follow_the_bytes_over_the_last_seconds()
    {
        var clock = new SteppedClock();
        var board = new LiveSessions(clock);
        var session = board.Begin("10.0.0.5:4000", "network");
        session.SetDevice("MX7-01");
        session.StartTransfer("backing-up", 10, 1000);
        Assert.Null(board.Snapshot().Live[0].Rate);

        clock.Advance(TimeSpan.FromSeconds(2));
        session.Progress(2, 200);
        var view = board.Snapshot().Live[0];
        Assert.Equal(("MX7-01", "backing-up", 200L, 1000L), (view.Device, view.Phase, view.BytesDone, view.BytesTotal));
        Assert.Equal(100, view.Rate);
        Assert.Equal(8, view.EtaSeconds);

        // Only the last few seconds count: a stall long ago does not drag the rate down.
        clock.Advance(TimeSpan.FromSeconds(10));
        session.Progress(4, 400);
        clock.Advance(TimeSpan.FromSeconds(2));
        session.Progress(6, 800);
        view = board.Snapshot().Live[0];
        Assert.Equal(200, view.Rate);
        Assert.Equal(1, view.EtaSeconds);
    }

    [Fact]
    public void An_ended_session_leaves_the_live_list_with_its_outcome_and_the_newest_are_kept()
    {
        var board = new LiveSessions(new SteppedClock());
        for (var i = 0; i < LiveSessions.EndedKept + 3; i++)
        {
            board.Begin($"r{i}", "serial").End($"outcome {i}");
        }

        var live = board.Begin("now", "usb");
        var view = board.Snapshot();
        Assert.Equal("now", Assert.Single(view.Live).Remote);
        Assert.Equal(LiveSessions.EndedKept, view.Ended.Count);
        Assert.Equal($"outcome {LiveSessions.EndedKept + 2}", view.Ended[0].Outcome);
        Assert.Equal("ended", view.Ended[0].Phase);
        live.End("goodbye");
        Assert.Empty(board.Snapshot().Live);
    }

    [Fact]
    public async Task A_waiter_wakes_on_the_next_change_only()
    {
        var board = new LiveSessions(new SteppedClock());
        var seen = board.Version;
        var waiting = board.WaitForChangeAsync(seen, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        board.Begin("r", "network");
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(board.WaitForChangeAsync(seen, CancellationToken.None).IsCompleted);
    }

    private sealed class SteppedClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
