using System.Text.Json;
using Cradle.Protocol;
using Cradle.Protocol.Messages;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 19, hole 7 (the host's side; HostileHostTests has the device's): a device's goodbye reason,
/// sent before it authenticated, reached the host's console and logs/cradle.log with its raw ESC
/// bytes. Now what came off the wire is escaped in the console, the log file, and the API's JSON.
/// </summary>
public sealed class WireTextTests : IDisposable
{
    private const string Evil = "\u001b]0;pwned\u0007\u001b[2J\rforged line\n2026-01-01 host ok \u009b31m \u202eesrever";
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task What_a_device_says_before_it_authenticates_reaches_the_console_the_log_and_the_api_escaped()
    {
        await using var host = await RunningHost.StartOnAsync(_folder["host"], "depot", extra: ["--verbose", "--log-file", "logs/cradle.log"]);
        await using (var client = await HostileClient.ConnectAsync(host.Address))
        {
            await client.SendAsync(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = ProtocolVersion.Oldest, NewestProtocolVersion = ProtocolVersion.Current, DeviceName = "STRANGER-1", Model = "model " + Evil, Software = "software " + Evil } });
            await client.ReceiveAsync();
            await client.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "goodbye " + Evil } });
            await Assert.ThrowsAsync<LinkClosedException>(async () => await client.ReceiveAsync());
        }

        Assert.True(await host.Process.WaitForOutputAsync("the device left before partnering", TimeSpan.FromSeconds(10)), host.Process.Stderr);
        using var api = await host.DashboardClientAsync();
        var sessions = await api.GetStringAsync("api/v1/sessions");
        await Task.Delay(500); // the log file is written as the console is
        var log = await File.ReadAllTextAsync(Path.Combine(host.Data, "logs", "cradle.log"));
        foreach (var (where, text) in new[] { ("console", host.Process.Stdout + host.Process.Stderr), ("log file", log) })
        {
            foreach (var raw in new[] { '\u001b', '\u0007', '\r', '\u009b', '\u202e' })
            {
                Assert.False(text.Contains(raw, StringComparison.Ordinal), $"the {where} holds U+{(int)raw:X4} raw:\n{text}");
            }

            Assert.Contains(@"goodbye \x1b]0;pwned\x07\x1b[2J\rforged line\n2026-01-01 host ok \x9b31m \u202eesrever", text, StringComparison.Ordinal);
            Assert.Contains(@"model \x1b]0;pwned", text, StringComparison.Ordinal);
        }

        // In the API's JSON the outcome is the escaped text, so a client that prints it is safe too.
        var outcome = JsonDocument.Parse(sessions).RootElement.GetProperty("ended").EnumerateArray().Single().GetProperty("outcome").GetString()!;
        Assert.Contains(@"goodbye \x1b]0;pwned", outcome, StringComparison.Ordinal);
        Assert.False(WireText.NeedsEscape(outcome), outcome);
    }
}
