using System.Globalization;
using System.Text.Json;
using Cradle.Protocol.Messages;
using Xunit.Abstractions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 19, hole 3: 1,000 partnership requests that hung up at once left 1,000 entries in
/// <c>host pending</c> and 3,230 open descriptors for 5 minutes, and under a 1,024-descriptor limit
/// the host died. Now a waiting request ends the moment its device leaves, requests are bounded
/// per address and in total (the oldest gives way), wrong codes lock approvals, and
/// <c>host approve</c> says what the host did with the approval.
/// </summary>
public sealed class PendingFloodTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_flood_of_partnership_requests_that_hang_up_is_freed_at_once_and_the_host_keeps_serving()
    {
        await using var host = await RunningHost.StartOnAsync(_folder["host"], "strict", autoApprove: false, ["--http", "off"]);
        using (var prlimit = System.Diagnostics.Process.Start("prlimit", ["--pid", host.Process.Id.ToString(CultureInfo.InvariantCulture), "--nofile=1024:1024"])!)
        {
            await prlimit.WaitForExitAsync();
            Assert.Equal(0, prlimit.ExitCode);
        }

        var before = Descriptors(host);
        var peak = before;
        var codes = new System.Collections.Concurrent.ConcurrentBag<string>();
        var next = -1;
        var workers = Enumerable.Range(0, 20).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < 1000)
            {
                await using var client = await HostileClient.ConnectAsync(host.Address);
                codes.Add(await client.RequestPartnershipAsync($"FLOOD-{i}", 0x1000_0000 + (uint)i));
                // … and hangs up at once.
            }
        }).ToList();
        while (!Task.WhenAll(workers).IsCompleted)
        {
            Assert.False(host.Process.HasExited, "the host died under the flood:\n" + host.Process.Stderr);
            peak = Math.Max(peak, Descriptors(host));
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(50));
        }

        await Task.WhenAll(workers);
        // Each got its code, or (twenty at a time from one address) was withdrawn for a newer one,
        // or drew the code of a request still waiting (both sides derive it from fresh nonces: among
        // a thousand requests against up to 64 waiting ones that happens a few times in a hundred runs).
        Assert.Equal(1000, codes.Count);
        Assert.All(codes, c => Assert.True(
            c.Length == 6
            || c.StartsWith("approval: more than 4 partnership requests came from 127.0.0.1", StringComparison.Ordinal)
            || c.StartsWith("busy: another partnership request waits under code", StringComparison.Ordinal), c));
        Assert.True(codes.Count(c => c.StartsWith("busy:", StringComparison.Ordinal)) < 20, "far more code collisions than chance makes");

        // Every request ended with its connection: nothing waits, the descriptors are back.
        var waiting = -1;
        for (var i = 0; i < 50 && waiting != 0; i++)
        {
            waiting = JsonDocument.Parse((await host.RunAsync("host", "pending", "--json")).Stdout).RootElement.GetArrayLength();
            await Task.Delay(waiting == 0 ? 0 : 200);
        }

        var after = Descriptors(host);
        output.WriteLine($"1000 partnership requests that hung up: host descriptors {before} before, {peak} at the peak, {after} after; {waiting} still pending");
        Assert.Equal(0, waiting);
        Assert.InRange(after, 0, before + 16);
        Assert.False(host.Process.HasExited, host.Process.Stderr);

        // Approving one of them says the device has gone, and makes nothing.
        var gone = codes.First(c => c.Length == 6);
        var approve = await host.RunAsync("host", "approve", gone);
        Assert.True(approve.ExitCode == 1, approve.ToString());
        Assert.Contains("has gone", approve.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was created", approve.Stderr, StringComparison.Ordinal);
        Assert.Empty(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());

        // A device that stays is approved, and approve reports the partnership the host made.
        await using var honest = await HostileClient.ConnectAsync(host.Address);
        var code = await honest.RequestPartnershipAsync("HONEST-1", 0x0000_4242);
        var approving = host.RunAsync("host", "approve", code);
        var accepted = await honest.ReceiveAsync();
        Assert.Equal(Envelope.BodyOneofCase.SessionAccepted, accepted.BodyCase);
        await honest.SendAsync(new Envelope { PartnershipStored = new PartnershipStored { Number = 0x0000_4242 } });
        var approved = await approving;
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Contains("partnership created with HONEST-1: number 00004242", approved.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_requests_are_bounded_per_address_and_in_total_and_the_oldest_gives_way()
    {
        await using var host = await RunningHost.StartOnAsync(_folder["host"], "strict", autoApprove: false, ["--http", "off"]);
        var clients = new List<(HostileClient Client, string Code)>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                var client = await HostileClient.ConnectAsync(host.Address);
                clients.Add((client, await client.RequestPartnershipAsync($"SAME-{i}", 0x2000_0000 + (uint)i)));
            }

            // Four wait from one address; the two oldest were told why they gave way.
            Assert.Equal(clients.Skip(2).Select(c => c.Code).Order(), await PendingCodesAsync(host));
            foreach (var (client, _) in clients.Take(2))
            {
                var refusal = await client.ReceiveAsync();
                Assert.Equal("approval", refusal.Refusal.Rule);
                Assert.Contains("more than 4 partnership requests came from 127.0.0.1", refusal.Refusal.Message, StringComparison.Ordinal);
            }

            // 64 in all: sixteen more addresses with four each push out the four oldest.
            for (var a = 2; a <= 17; a++)
            {
                for (var i = 0; i < 4; i++)
                {
                    var client = await HostileClient.ConnectFromAsync(host.Address, $"127.0.0.{a}");
                    clients.Add((client, await client.RequestPartnershipAsync($"ADDR{a}-{i}", 0x3000_0000 + (uint)((a * 4) + i))));
                }
            }

            var pending = await PendingCodesAsync(host);
            Assert.Equal(64, pending.Count);
            Assert.DoesNotContain(clients[2].Code, pending);
            Assert.DoesNotContain(clients[5].Code, pending);
            Assert.Contains(clients[^1].Code, pending);
        }
        finally
        {
            foreach (var (client, _) in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Wrong_codes_lock_approvals_for_a_while_and_the_host_logs_them()
    {
        await using var host = await RunningHost.StartOnAsync(_folder["host"], "strict", autoApprove: false, ["--http", "off"]);
        await using var client = await HostileClient.ConnectAsync(host.Address);
        var code = await client.RequestPartnershipAsync("GUESSED-1", 0x0000_5151);
        var wrong = Enumerable.Range(100000, 10).Select(c => c.ToString(CultureInfo.InvariantCulture)).Where(c => c != code).Take(6).ToList();
        for (var i = 0; i < 5; i++)
        {
            var guess = await host.RunAsync("host", "approve", wrong[i]);
            Assert.Equal(2, guess.ExitCode);
            Assert.Contains($"wrong code {i + 1} of 5", guess.Stderr, StringComparison.Ordinal);
        }

        var sixth = await host.RunAsync("host", "approve", wrong[5]);
        Assert.Equal(2, sixth.ExitCode);
        Assert.Contains("approvals and denials are locked until", sixth.Stderr, StringComparison.Ordinal);

        // Locked: even the right code is refused now, and nothing is made.
        var right = await host.RunAsync("host", "approve", code);
        Assert.Equal(1, right.ExitCode);
        Assert.Contains("locked until", right.Stderr, StringComparison.Ordinal);
        Assert.Equal([code], await PendingCodesAsync(host));
        Assert.True(await host.Process.WaitForOutputAsync("6 wrong codes given within 10 minutes; decisions locked until", TimeSpan.FromSeconds(10)), host.Process.Stderr);
    }

    private static async Task<List<string>> PendingCodesAsync(RunningHost host)
    {
        var listed = await host.RunAsync("host", "pending", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        return [.. JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Select(p => p.GetProperty("code").GetString()!).Order()];
    }

    private static int Descriptors(RunningHost host)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{host.Process.Id}/fd").Length;
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
    }
}
