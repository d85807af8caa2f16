using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Cradle.LineRelay.Tests;

/// <summary>The relay as the benchmark scripts run it: a process that names its ports on one line.</summary>
public sealed partial class LineRelayProgramTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static string Executable =>
        typeof(LineRelayProgramTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LineRelayExecutable").Value!;

    [Fact]
    public async Task It_names_both_ports_relays_and_reports_counters_when_stdin_closes()
    {
        using var relay = Start("--baud", "115200", "--seed", "3");
        var ports = PortsLine().Match(await relay.StandardOutput.ReadLineAsync().WaitAsync(Patience) ?? "");
        Assert.True(ports.Success, "the first line does not name the ports");
        var data = TestData.Bytes(30, 1000);

        using (var device = PortEnd.Open(ports.Groups["device"].Value))
        using (var host = PortEnd.Open(ports.Groups["host"].Value))
        {
            var reads = host.ReadAsync(data.Length);
            await device.WriteAsync(data);
            Assert.Equal(data, await reads);
        }

        relay.StandardInput.Close();
        await relay.WaitForExitAsync().WaitAsync(Patience);

        Assert.Equal(0, relay.ExitCode);
        var report = await relay.StandardError.ReadToEndAsync();
        Assert.Contains("device->host: forwarded=1000 ", report, StringComparison.Ordinal);
        Assert.Contains("host->device: forwarded=0 ", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_stops_it_cleanly()
    {
        using var relay = Start();
        Assert.Matches(PortsLine(), await relay.StandardOutput.ReadLineAsync().WaitAsync(Patience) ?? "");

        using (var kill = Process.Start("kill", ["-TERM", relay.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().WaitAsync(Patience);
        }

        await relay.WaitForExitAsync().WaitAsync(Patience);
        Assert.Equal(0, relay.ExitCode);
        Assert.Contains("device->host: forwarded=0 ", await relay.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_flag_is_refused_with_the_usage()
    {
        using var relay = Start("--baud", "9600", "--baud-mismatch", "--ber", "lots");
        await relay.WaitForExitAsync().WaitAsync(Patience);

        Assert.Equal(2, relay.ExitCode);
        Assert.Contains("usage:", await relay.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
        Assert.Equal("", await relay.StandardOutput.ReadToEndAsync());
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"{Executable} did not start");
    }

    [GeneratedRegex("^device=(?<device>/dev/pts/[0-9]+) host=(?<host>/dev/pts/[0-9]+)$")]
    private static partial Regex PortsLine();
}
