using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Output a person and a journal can read, and nothing new when nothing changed: an unchanged
/// backup verifies the snapshot before; progress lines every few seconds off a terminal, no
/// empty bar on one while the approval waits; counts in the right number, times with their
/// zone, a header on every table.
/// </summary>
public sealed partial class OutputTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task An_unchanged_backup_makes_no_new_snapshot_and_records_that_it_verified_the_last()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-30")).ExitCode);
        var first = await device.BackUpOnceAsync(host);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("snapshot 1 committed on depot: 1 file, ", first.Stdout, StringComparison.Ordinal);

        var again = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        var row = JsonDocument.Parse(again.Stdout).RootElement;
        Assert.Equal((1L, true, "complete"), (row.GetProperty("snapshot").GetInt64(), row.GetProperty("unchanged").GetBoolean(), row.GetProperty("status").GetString()));
        var text = await device.BackUpOnceAsync(host);
        Assert.Contains("nothing changed since snapshot 1 on depot: no new snapshot; that one (1 file, ", text.Stdout, StringComparison.Ordinal);

        var snapshots = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement;
        var only = Assert.Single(snapshots.EnumerateArray());
        Assert.True(only.GetProperty("verified").GetDateTimeOffset() > only.GetProperty("time").GetDateTimeOffset());
        var devices = JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement[0];
        Assert.True(devices.GetProperty("lastBackup").GetDateTimeOffset() >= only.GetProperty("verified").GetDateTimeOffset().AddSeconds(-1));
        Assert.Contains("verified", (await host.RunAsync("host", "snapshots")).Stdout, StringComparison.Ordinal);

        await device.PlaceFileAsync("new.txt", "new"u8.ToArray());
        var changed = await device.BackUpOnceAsync(host);
        Assert.Contains("snapshot 2 committed on depot: 2 files", changed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Off_a_terminal_a_long_backup_reports_progress_every_few_seconds_with_its_rate()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        using var slow = TcpRelay.Start(host.Address);
        slow.DeviceToHostRate = 1024 * 1024;
        var device = new TestDevice(_folder.Path, "mx7");
        Directory.CreateDirectory(device.DataFolder);
        File.WriteAllBytes(Path.Combine(device.DataFolder, "big.bin"), TestData.Bytes(9, 12 * 1024 * 1024));
        Assert.Equal(0, (await device.InitAsync("MX7-31")).ExitCode);

        var backup = await device.RunAsync("connect", "--host", slow.Address, "--once");

        Assert.True(backup.ExitCode == 0, backup.ToString());
        var lines = backup.Stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("scanning the data folders", lines);
        Assert.DoesNotContain(lines, l => l.Contains("0/0 files", StringComparison.Ordinal));
        var uploading = lines.Where(l => l.StartsWith("uploading: ", StringComparison.Ordinal)).ToList();
        Assert.True(uploading.Count >= 2, backup.Stderr);
        Assert.Contains(uploading, l => RateLine().IsMatch(l));
    }

    [Fact]
    public async Task On_a_terminal_no_bar_shows_while_the_partnership_waits_for_approval()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "strict", autoApprove: false);
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-32")).ExitCode);

        await using var connect = CradleProcess.StartOnTerminal("device", "connect", "--host", host.Address, "--once", "--state", device.State);
        Assert.True(await connect.WaitForOutputAsync("waiting for approval on host strict", TimeSpan.FromSeconds(60)), connect.Stdout);
        await Task.Delay(1500);
        var waiting = connect.Stdout;
        Assert.DoesNotContain("0%", waiting, StringComparison.Ordinal);
        Assert.DoesNotContain("byte", waiting, StringComparison.Ordinal);

        var code = Regex.Match(waiting, "code ([0-9]{6})").Groups[1].Value;
        Assert.Equal(0, (await host.RunAsync("host", "approve", code)).ExitCode);
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("snapshot 1 committed", connect.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tables_have_headers_times_have_their_zone_and_counts_their_number()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "strict", autoApprove: false);
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-33")).ExitCode);
        await using var connect = CradleProcess.Start("device", "connect", "--host", host.Address, "--once", "--state", device.State);
        CradleProcess.Result pending;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(200);
            pending = await host.RunAsync("host", "pending");
        }
        while (pending.Stdout.StartsWith("nothing waits", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.Matches(@"code\s*│\s*device\s*│\s*number\s*│\s*from\s*│\s*waiting since", pending.Stdout);
        Assert.Matches(ZonedTime(), pending.Stdout);
        var code = Regex.Match(pending.Stdout, "│ ([0-9]{6}) ").Groups[1].Value;
        Assert.Equal(0, (await host.RunAsync("host", "approve", code)).ExitCode);
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromMinutes(1)));

        var partnerships = await device.RunAsync("partnerships");
        Assert.Matches(@"host\s*│\s*number\s*│\s*address\s*│\s*since\s*│\s*last backup", partnerships.Stdout);
        Assert.Matches(ZonedTime(), partnerships.Stdout);
        var snapshots = await host.RunAsync("host", "snapshots");
        Assert.Matches(ZonedTime(), snapshots.Stdout);
        var check = await host.RunAsync("host", "check");
        Assert.Contains("1 snapshot", check.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("1 snapshots", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 file", connect.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("1 files", connect.Stdout, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"uploading: \d+/\d+ files?, .* of .* \(\d+%\), [0-9.]+ (B|KiB|MiB)/s, ")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d")]
    private static partial Regex ZonedTime();
}
