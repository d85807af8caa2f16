using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Nothing is removed without asking, and nothing is made where a typo pointed: forget, prune and
/// cold-boot show what goes and ask on a terminal, need --yes without one; every operator command
/// but host run refuses a folder that holds no store, naming it; an unknown device is the same
/// error in every command.
/// </summary>
public sealed class OperatorSafetyTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Forget_shows_what_goes_and_removes_nothing_without_yes_when_there_is_no_terminal()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-03")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        var dry = await host.RunAsync("host", "forget", "mx7-03", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("forgetting MX7-03 removes its partnership (number ", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("and 1 snapshot (", dry.Stdout, StringComparison.Ordinal);
        Assert.Contains("dry run: nothing changed", dry.Stdout, StringComparison.Ordinal);

        var unasked = await host.RunAsync("host", "forget", "MX7-03");
        Assert.True(unasked.ExitCode == 2, unasked.ToString());
        Assert.Contains("forgetting MX7-03 removes", unasked.Stdout, StringComparison.Ordinal);
        Assert.Contains("nothing changed: there is no terminal to ask on; to go ahead, run 'cradle host forget MX7-03 --yes'", unasked.Stderr, StringComparison.Ordinal);
        Assert.Single(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());
        Assert.Single(JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.EnumerateArray());

        var yes = await host.RunAsync("host", "forget", "MX7-03", "--yes");
        Assert.True(yes.ExitCode == 0, yes.ToString());
        Assert.Contains("forgot MX7-03: partnership removed, 1 snapshot removed", yes.Stdout, StringComparison.Ordinal);
        Assert.Empty(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task On_a_terminal_forget_asks_and_a_no_keeps_everything()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-04")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        await using (var no = CradleProcess.StartOnTerminal("host", "forget", "MX7-04", "--data", host.Data))
        {
            // The question has no line end of its own: what shows first is the line before it.
            Assert.True(await no.WaitForOutputAsync("forgetting MX7-04 removes", TimeSpan.FromSeconds(30)), no.Stdout);
            no.Answer("n");
            Assert.Equal(1, await no.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("Forget MX7-04? [y/N] n", no.Stdout, StringComparison.Ordinal);
            Assert.Contains("nothing changed", no.Stdout, StringComparison.Ordinal);
        }

        Assert.Single(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());
        await using var yes = CradleProcess.StartOnTerminal("host", "forget", "MX7-04", "--data", host.Data);
        Assert.True(await yes.WaitForOutputAsync("forgetting MX7-04 removes", TimeSpan.FromSeconds(30)), yes.Stdout);
        yes.Answer("y");
        Assert.Equal(0, await yes.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Prune_and_cold_boot_show_what_goes_and_need_yes_without_a_terminal()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-05")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        await device.PlaceFileAsync("more.txt", "more"u8.ToArray());
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        var prune = await host.RunAsync("host", "prune", "--keep-last", "1");
        Assert.True(prune.ExitCode == 2, prune.ToString());
        Assert.Contains("would remove snapshot 1 of MX7-05", prune.Stdout, StringComparison.Ordinal);
        Assert.Contains("run 'cradle host prune --keep-last 1 --yes'", prune.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.GetArrayLength());
        var pruned = await host.RunAsync("host", "prune", "--keep-last", "1", "--yes");
        Assert.True(pruned.ExitCode == 0, pruned.ToString());
        Assert.Contains("removed snapshot 1 of MX7-05", pruned.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.GetArrayLength());

        var boot = await device.RunAsync("cold-boot");
        Assert.True(boot.ExitCode == 2, boot.ToString());
        Assert.Contains("a cold boot of MX7-05 loses its partnership with depot (number ", boot.Stdout, StringComparison.Ordinal);
        Assert.Contains("run 'cradle device cold-boot --yes'", boot.Stderr, StringComparison.Ordinal);
        Assert.Single(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray());
        Assert.Equal(0, (await device.RunAsync("cold-boot", "--yes")).ExitCode);
        Assert.Empty(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray());
    }

    [Theory]
    [InlineData("devices")]
    [InlineData("snapshots")]
    [InlineData("pending")]
    [InlineData("check")]
    [InlineData("http-token")]
    [InlineData("forget", "MX7-01", "--yes")]
    [InlineData("restore", "MX7-01", "--to", "restored")]
    [InlineData("allow-restore", "MX7-01", "--to", "MX7-02")]
    [InlineData("prune", "--keep-last", "1", "--yes")]
    [InlineData("approve", "123456")]
    public async Task An_operator_command_on_a_folder_without_a_store_says_so_and_makes_nothing(params string[] args)
    {
        var wrong = _folder["wrong/path"];

        var result = await CradleProcess.RunAsync(["host", .. args, "--data", wrong]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"error: {wrong} holds no Cradle host: there is no cradle.db in it", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Only 'cradle host run --data {wrong}' makes a new one", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(wrong), $"{wrong} was made");
    }

    [Fact]
    public async Task An_unknown_device_is_the_same_error_in_every_command()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        const string Expected = "error: this host knows no device named NOSUCH: no partnership and no snapshot of it ('cradle host devices' lists the devices it knows)";
        string[][] commands =
        [
            ["snapshots", "NOSUCH"],
            ["forget", "NOSUCH", "--yes"],
            ["forget", "NOSUCH", "--dry-run"],
            ["restore", "NOSUCH", "--to", _folder["restored"]],
            ["allow-restore", "NOSUCH", "--to", "OTHER"],
        ];
        foreach (var command in commands)
        {
            var result = await host.RunAsync(["host", .. command]);
            Assert.True(result.ExitCode == 2, $"{string.Join(' ', command)}: {result}");
            Assert.Equal(Expected, result.Stderr.Trim());
        }

        var json = await host.RunAsync("host", "snapshots", "NOSUCH", "--json");
        Assert.Equal(2, json.ExitCode);
        Assert.Equal(("usage", 2), (JsonDocument.Parse(json.Stderr).RootElement.GetProperty("kind").GetString(), JsonDocument.Parse(json.Stderr).RootElement.GetProperty("exitCode").GetInt32()));
        using var http = await host.DashboardClientAsync();
        using var response = await http.GetAsync("api/v1/devices/NOSUCH/snapshots");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}
