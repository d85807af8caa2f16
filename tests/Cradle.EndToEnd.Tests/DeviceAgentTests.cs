using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The device agent on its own (<c>cradle-device</c>, native AOT for this machine), as a handheld's
/// user runs it: its messages name the commands that user types (<c>cradle-device init</c>), where
/// the all-in-one's name its own (<c>cradle device init</c>). test.sh installs the agent's tool
/// package and points CRADLE_DEVICE_EXE at it; without it the test is skipped.
/// </summary>
public sealed class DeviceAgentTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [DeviceAgentFact]
    public async Task The_agent_names_its_own_commands_and_the_all_in_one_its_own()
    {
        string[] agent = [DeviceAgent.Executable!];
        var state = Path.Combine(_folder.Path, "state");
        var data = Path.Combine(_folder.Path, "data");
        Directory.CreateDirectory(data);

        // A state folder that holds no device: what to run first.
        var empty = await CradleProcess.RunCommandAsync(agent, "status", "--state", state);
        Assert.True(empty.ExitCode != 0, empty.ToString());
        Assert.Contains("run 'cradle-device init --name NAME --folder DIR' first", empty.Stderr, StringComparison.Ordinal);
        var allInOne = await CradleProcess.RunAsync("device", "status", "--state", state);
        Assert.Contains("run 'cradle device init --name NAME --folder DIR' first", allInOne.Stderr, StringComparison.Ordinal);

        // The same folder under another name: the rename command, as this user types it.
        var init = await CradleProcess.RunCommandAsync(agent, "init", "--name", "AGENT-1", "--folder", data, "--state", state);
        Assert.True(init.ExitCode == 0, init.ToString());
        var other = await CradleProcess.RunCommandAsync(agent, "init", "--name", "AGENT-2", "--folder", data, "--state", state);
        Assert.True(other.ExitCode != 0, other.ToString());
        Assert.Contains("run 'cradle-device name AGENT-2'", other.Stderr, StringComparison.Ordinal);

        // Help names them too; no message of the agent sends its user to 'cradle device'.
        var help = await CradleProcess.RunCommandAsync(agent, "connect", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        // (Help wraps long descriptions: compare with the line breaks as spaces.)
        Assert.Contains("'cradle-device disconnect'", Regex.Replace(help.Stdout, @"\s+", " "), StringComparison.Ordinal);
        foreach (var result in new[] { empty, other, help })
        {
            Assert.DoesNotContain("cradle device ", Regex.Replace(result.Stdout + result.Stderr, @"\s+", " "), StringComparison.Ordinal);
        }
    }

    [DeviceAgentFact]
    public async Task Each_command_runs_when_the_agent_makes_only_the_one_it_is_asked_for()
    {
        // cradle-device makes only the command its first word names (DeviceCommands.Commands): a
        // name paired with another command's maker would leave that command unknown.
        string[] agent = [DeviceAgent.Executable!];
        string[] names = ["init", "folders", "name", "partnerships", "end-partnership", "connect", "config", "install-service", "restore", "disconnect", "status", "cold-boot"];
        foreach (var name in names)
        {
            var help = await CradleProcess.RunCommandAsync(agent, name, "--help");
            Assert.True(help.ExitCode == 0, $"{name}: {help}");
            // The usage line names the command as this user types it (it read 'device status' once).
            Assert.Matches($@"Usage:\s+cradle-device {Regex.Escape(name)}\b", help.Stdout);
        }

        // With no command named (or a mistyped one) it makes them all: help lists each.
        var all = await CradleProcess.RunCommandAsync(agent, "--help");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.All(names, name => Assert.Matches($@"(?m)^\s+{Regex.Escape(name)}\b", all.Stdout));
        var typo = await CradleProcess.RunCommandAsync(agent, "statu");
        Assert.Equal(2, typo.ExitCode);
    }

    [DeviceAgentFact]
    public async Task The_agents_tables_read_as_the_all_in_ones()
    {
        // The agent draws its tables itself (no Spectre.Console in it): the same text as the all-in-one's.
        string[] agent = [DeviceAgent.Executable!];
        var state = Path.Combine(_folder.Path, "state");
        // Wide (two cells a character) and combining (none) text: padded by cells, not by length.
        var data = Path.Combine(_folder.Path, "写真-Cafe\u0301");
        Directory.CreateDirectory(data);
        var init = await CradleProcess.RunCommandAsync(agent, "init", "--name", "TABLES-1", "--folder", data, "--state", state);
        Assert.True(init.ExitCode == 0, init.ToString());
        await CradleProcess.RunCommandAsync(agent, "folders", "exclude", "*.tmp", "--state", state);

        var mine = await CradleProcess.RunCommandAsync(agent, "folders", "--state", state);
        var allInOne = await CradleProcess.RunAsync("device", "folders", "--state", state);
        Assert.True(mine.ExitCode == 0, mine.ToString());
        Assert.Contains("│ 写真-Cafe\u0301/ │", mine.Stdout, StringComparison.Ordinal);
        Assert.Equal(allInOne.Stdout, mine.Stdout);
    }

    [DeviceAgentFact]
    public async Task The_agent_collects_generation_0_after_a_MiB_and_gives_a_backups_buffers_back_after_it()
    {
        // Baked into the executable (Cradle.DeviceAgent.csproj, --runtimeopt:GCGen0MaxBudget): the
        // workstation GC's own budget let ~7.5 MiB of short-lived objects pile up in a backup.
        // The GC's settings as it read them, in the backup's debug line (event 2118).
        string[] agent = [DeviceAgent.Executable!];
        await using var host = await RunningHost.StartAsync(_folder.Path, "budget");
        var state = Path.Combine(_folder.Path, "state");
        var data = Path.Combine(_folder.Path, "data");
        Directory.CreateDirectory(data);
        await File.WriteAllBytesAsync(Path.Combine(data, "scans.dat"), TestData.Bytes(21, 3 * 1024 * 1024));
        var log = Path.Combine(_folder.Path, "agent.log");
        var init = await CradleProcess.RunCommandAsync(agent, "init", "--name", "BUDGET-1", "--folder", data, "--state", state);
        Assert.True(init.ExitCode == 0, init.ToString());

        var backup = await CradleProcess.RunCommandAsync(agent, "connect", "--host", host.Address, "--once", "--verbose", "--log-file", log, "--state", state);

        Assert.True(backup.ExitCode == 0, backup.ToString());
        var lines = await File.ReadAllTextAsync(log);
        Assert.Matches(@"\[2118\] .*generation 0's budget at most 1048576 bytes", lines);

        // After the backup its buffers (two 2 MiB batches among them) are given back at once,
        // not left resident for as long as the agent sits idle on the link.
        var after = Regex.Match(lines, @"\[2119\] .*the managed heap (\d+) → (\d+) bytes");
        Assert.True(after.Success, lines);
        Assert.True(long.Parse(after.Groups[2].Value) * 2 < long.Parse(after.Groups[1].Value), after.Value);
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>A test that needs the native device agent (CRADLE_DEVICE_EXE); skipped, saying why, without it.</summary>
public sealed class DeviceAgentFactAttribute : FactAttribute
{
    public DeviceAgentFactAttribute()
    {
        if (DeviceAgent.Executable is null)
        {
            Skip = $"{DeviceAgent.Variable} is not set: test.sh installs the cradle-device tool package and sets it";
        }
    }
}

/// <summary>The native <c>cradle-device</c> for this machine (test.sh: the installed tool).</summary>
public static class DeviceAgent
{
    public const string Variable = "CRADLE_DEVICE_EXE";

    public static string? Executable => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;
}
