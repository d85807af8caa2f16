using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Cradle.Tests;

namespace Cradle.Device.Tests;

/// <summary>
/// Issue 21: what the agent (<c>cradle device connect</c>) does with a host's refusal is decided
/// by its class and transient flag, not by its words: a transient one (the host is busy, its disk
/// is full) is tried again after a growing wait; any other ends the agent at once.
/// </summary>
public sealed class RefusalRetryTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<RefusalClass> EveryClass() =>
        new(Enum.GetValues<RefusalClass>().Where(c => c != RefusalClass.Unspecified));

    [Theory]
    [MemberData(nameof(EveryClass))]
    public async Task The_agent_retries_a_transient_refusal_and_stops_at_any_other(RefusalClass refusalClass)
    {
        var refusal = Refusals.ToMessage(new SessionRefusedException(refusalClass, $"refused as {refusalClass}"));
        await RunAgainstAsync(refusal, Refusals.IsTransient(refusalClass), refusalClass);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_class_from_a_newer_host_is_retried_only_when_the_host_says_it_is_transient(bool transient)
    {
        var refusal = new Refusal { RefusalClass = (RefusalClass)99, Rule = "quota", Message = "over quota", Transient = transient };
        await RunAgainstAsync(refusal, transient, (RefusalClass)99);
    }

    private async Task RunAgainstAsync(Refusal refusal, bool retried, RefusalClass expected)
    {
        await using var host = new RefusingHost(refusal);
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "a.txt"), "a file\n");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-REFUSED", [data]);
        var observer = new Warnings();
        var agent = new DeviceAgent(state, new NetworkRoute(host.Address), new DeviceOptions { AcceptNewHost = DeviceOptions.AnyHost }, observer)
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(80),
        };

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var running = agent.RunAsync(stop.Token);
        if (retried)
        {
            // Three sessions, each refused, each followed by a wait: the agent keeps trying.
            while (host.Refused < 3 && !running.IsCompleted)
            {
                await Task.Delay(20, stop.Token);
            }

            Assert.False(running.IsCompleted, $"the agent stopped: {running.Exception?.GetBaseException().Message}");
            Assert.True(agent.Status.Failures >= 2, $"failures: {agent.Status.Failures}");
            Assert.Contains(observer.Seen, w => w.Contains("trying again in", StringComparison.Ordinal));
            await stop.CancelAsync();
            await running; // a clean stop
        }
        else
        {
            var e = await Assert.ThrowsAsync<SessionRefusedException>(() => running);
            Assert.Equal(expected, e.Class);
            Assert.False(e.IsTransient);
            Assert.Equal(1, host.Refused);
            Assert.Empty(observer.Seen);
        }
    }

    private sealed class Warnings : ISessionObserver
    {
        private readonly List<string> _seen = [];

        public IReadOnlyList<string> Seen
        {
            get { lock (_seen) { return [.. _seen]; } }
        }

        public void Warning(string message)
        {
            lock (_seen)
            {
                _seen.Add(message);
            }
        }
    }
}
