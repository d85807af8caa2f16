using Cradle.Device;
using Cradle.Protocol;
using Cradle.Store;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>
/// Issue 19, hole 2: what a session may owe and how fast it may query are bounded. The device of
/// this build stays under the bound on its own (it re-reads the files behind owed chunks before
/// it owes too many); the rate is a token bucket that slows a session down rather than refusing it.
/// </summary>
public sealed class SessionLimitsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(8, true)]
    [InlineData(WireLimits.DefaultMaxOwedPerSession, false)]
    public async Task A_device_whose_cached_chunks_the_host_lost_pays_them_before_it_owes_more_than_the_host_allows(int owedBeforeReread, bool completes)
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "depot", o => o with { Limits = new SessionLimits { MaxOwedPerSession = 40 } });
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        for (var i = 0; i < 200; i++)
        {
            File.WriteAllText(Path.Combine(data, $"f{i:000}.txt"), $"file {i} of two hundred\n");
        }

        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-OWED", [data]);
        var options = new DeviceOptions { BatchChunks = 16, OwedBeforeReread = owedBeforeReread };
        await host.BackUpAsync(state, options);

        // The host loses what the files cache says it has (as if it never had this device's chunks).
        using (var catalog = host.Store.OpenCatalog())
        {
            Assert.True(catalog.DeleteOwnersOf(DeviceName.Parse("MX7-OWED").Key) >= 200);
        }

        File.WriteAllText(Path.Combine(data, "new.txt"), "a change, so that a backup runs\n");
        if (completes)
        {
            var again = await host.BackUpAsync(state, options);
            Assert.Equal(201, again.FilesRead);
        }
        else
        {
            var e = await Assert.ThrowsAsync<SessionRefusedException>(() => host.BackUpAsync(state, options));
            Assert.Equal("protocol", e.Rule);
            Assert.False(e.IsTransient);
            Assert.Contains("at most 40 may be owed", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, host.Owed.Owed);
    }

    /// <summary>
    /// Issue 21: a host owed its most chunks refuses as busy, a transient class on the wire; the
    /// device's agent waits and tries again instead of giving up (a lasting refusal ends it).
    /// </summary>
    [Fact]
    public async Task A_host_owed_its_most_refuses_as_busy_and_the_agent_tries_again()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "depot", o => o with { Limits = new SessionLimits { MaxOwedPerSession = 40, MaxOwedPerHost = 4 } });
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        for (var i = 0; i < 50; i++)
        {
            File.WriteAllText(Path.Combine(data, $"f{i:000}.txt"), $"file {i} of fifty\n");
        }

        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-BUSY", [data]);
        var options = new DeviceOptions { BatchChunks = 16 };

        var e = await Assert.ThrowsAsync<SessionRefusedException>(() => host.BackUpAsync(state, options));
        Assert.Equal(Protocol.Messages.RefusalClass.Busy, e.Class);
        Assert.True(e.IsTransient);
        Assert.Contains("its most (4)", e.Message, StringComparison.Ordinal);

        var agent = new DeviceAgent(state, new NetworkRoute(host.BoundAddress!), LoopbackHost.Trusting(options), new NoObserver())
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(80),
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = agent.RunAsync(stop.Token);
        while (agent.Status.Failures < 3 && !running.IsCompleted)
        {
            await Task.Delay(20, stop.Token);
        }

        Assert.False(running.IsCompleted, $"the agent stopped: {running.Exception?.GetBaseException().Message}");
        Assert.Contains("its most (4)", agent.Status.LastError, StringComparison.Ordinal);
        await stop.CancelAsync();
        await running;
        Assert.Equal(0, host.Owed.Owed);
    }

    private sealed class NoObserver : ISessionObserver;

    [Fact]
    public void The_host_budget_gives_out_what_it_has_and_takes_back_what_is_given()
    {
        var budget = new OwedBudget(100);
        Assert.True(budget.TryTake(60));
        Assert.False(budget.TryTake(41));
        Assert.Equal(60, budget.Owed);
        Assert.True(budget.TryTake(40));
        budget.Give(100);
        Assert.Equal(0, budget.Owed);
    }

    [Fact]
    public void The_query_rate_lets_a_burst_through_then_makes_each_query_wait_its_share()
    {
        var clock = new SteppedClock();
        var rate = new QueryRate(perSecond: 1000, burst: 4096, clock);
        Assert.Equal(TimeSpan.Zero, rate.Reserve(4096));
        Assert.Equal(TimeSpan.FromSeconds(4.096), rate.Reserve(4096));

        // Waiting the time given pays the debt; a query no bigger than what accrued goes at once.
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.Zero, rate.Reserve(500));
        Assert.Equal(TimeSpan.FromSeconds(0.096), rate.Reserve(500));
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
