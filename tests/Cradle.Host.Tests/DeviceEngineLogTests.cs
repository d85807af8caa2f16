using Cradle.Device;
using Cradle.Tests;
using Microsoft.Extensions.Logging;

namespace Cradle.Host.Tests;

/// <summary>
/// Issue 21: the device engine logs through <c>ILogger</c> with stable event ids (21xx), not only
/// free text through its observer: a session against a real host, logged to the device's rolling
/// log file, carries the engine's events by id.
/// </summary>
public sealed class DeviceEngineLogTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_backup_session_writes_the_engines_events_with_their_ids_to_the_rolling_log()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "depot");
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "a.txt"), "a file\n");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-LOGS", [data]);
        var path = _temp["logs/cradle.log"];
        using (var loggers = LoggerFactory.Create(b => b.AddProvider(new RollingFileLoggerProvider(path, 1024 * 1024, 2))))
        {
            var options = new DeviceOptions { Logger = loggers.CreateLogger("Cradle.Device") };
            await host.BackUpAsync(state, options);
            await host.BackUpAsync(state, options);
        }

        var lines = File.ReadAllLines(path);
        foreach (var id in new[] { 2100, 2101, 2112, 2110, 2117 })
        {
            Assert.Contains(lines, l => l.Contains($" [{id}] Cradle.Device: ", StringComparison.Ordinal));
        }

        // Two sessions: connected twice, committed twice, partnered once.
        Assert.Equal(2, lines.Count(l => l.Contains(" [2110] ", StringComparison.Ordinal)));
        Assert.Equal(1, lines.Count(l => l.Contains(" [2112] ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("[2110] Cradle.Device: snapshot 1 committed on depot: 1 files", StringComparison.Ordinal));
    }
}
