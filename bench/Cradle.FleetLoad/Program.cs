using System.Diagnostics;
using System.Globalization;
using Cradle.FleetLoad;
using Cradle.Links;

// The fleet load driver (bench/fleet.sh runs it): many simulated devices in this process backing
// up through several hosts. Prints a summary line; with --report, one line per device
// (name, data folder, latest snapshot, snapshots, failovers, error) for the restores that follow.
//
//   Cradle.FleetLoad --hosts H:P[,H:P…] --devices N --concurrency C --folder DIR
//                    [--rounds R] [--kib K] [--prefix NAME] [--report FILE]
//                    [--kill-after COUNT --kill-pid PID]   (SIGKILL PID once COUNT backups committed)
var values = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2)
{
    values[args[i]] = args[i + 1];
}

string Value(string name, string? fallback = null) =>
    values.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"{name} is required");
int Number(string name, int fallback) => int.Parse(Value(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

var options = new FleetOptions
{
    Hosts = [.. Value("--hosts").Split(',').Select(h => LinkAddress.Parse(h))],
    Devices = Number("--devices", 100),
    Concurrency = Number("--concurrency", 20),
    Rounds = Number("--rounds", 2),
    KiB = Number("--kib", 64),
    Folder = Value("--folder"),
    NamePrefix = Value("--prefix", "FL"),
};
var killAfter = Number("--kill-after", 0);
var killPid = Number("--kill-pid", 0);
var killed = 0;
var run = new FleetRun(options)
{
    OnCommitted = count =>
    {
        if (killPid > 0 && count >= killAfter && Interlocked.Exchange(ref killed, 1) == 0)
        {
            using var victim = Process.GetProcessById(killPid);
            victim.Kill();
            Console.Out.WriteLine($"killed host pid {killPid} (SIGKILL) after {count} committed backups");
        }
    },
};
var prepare = Stopwatch.StartNew();
run.Prepare();
Console.Out.WriteLine($"prepared {options.Devices} devices in {prepare.Elapsed.TotalSeconds:0.0} s");
var report = await run.RunAsync(CancellationToken.None);
if (values.TryGetValue("--report", out var reportPath))
{
    await File.WriteAllLinesAsync(reportPath, report.Devices.Select(d =>
        string.Join('\t', d.Name, d.DataFolder, d.Snapshots.Count > 0 ? d.Snapshots[^1].ToString(CultureInfo.InvariantCulture) : "-", d.Snapshots.Count.ToString(CultureInfo.InvariantCulture), d.Failovers.ToString(CultureInfo.InvariantCulture), d.Error ?? "")));
}

foreach (var failed in report.Failed.Take(10))
{
    Console.Error.WriteLine($"FAILED {failed.Name}: {failed.Error}");
}

// Why sessions were tried again elsewhere: with no host killed there should be none.
foreach (var (reason, count) in report.FailoverReasons.OrderByDescending(r => r.Value).Take(10))
{
    Console.Error.WriteLine($"failover {count} ×: {reason}");
}

var seconds = report.Elapsed.TotalSeconds;
Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"devices {options.Devices}, concurrency {options.Concurrency}, hosts {options.Hosts.Count}: {report.Backups} backups committed, {report.Failed.Count()} devices failed, {report.Failovers} failovers; wall {seconds:0.0} s, {report.Backups / seconds:0.0} backups/s, {report.BytesRead / seconds / 1e6:0.00} MB/s read, {report.WireBytesSent / seconds / 1e6:0.00} MB/s on the links"));
return report.Failed.Any() ? 1 : 0;
