using System.Globalization;
using System.Text.RegularExpressions;
using Cradle.FleetLoad;
using Cradle.Links;
using Xunit.Abstractions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The fleet under load, CI-sized (bench/fleet.sh runs the 1,000-device figure): three real
/// <c>cradle host run</c> processes sharing one PostgreSQL catalog and one S3 bucket (RGW), many
/// simulated devices in this process (<see cref="FleetRun"/>: the real device library) backing
/// up through them round-robin, and one host killed (SIGKILL) a third of the way through. Every
/// device ends with its backups committed, the work reached every host, nothing the killed host
/// committed is lost, check --read-data passes and the snapshots restore byte for byte.
/// </summary>
[Collection(nameof(LoadTests))]
public sealed partial class FleetLoadTests(ITestOutputHelper output) : IDisposable
{
    private const int Devices = 36;
    private const int Rounds = 2;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Devices_back_up_through_three_hosts_and_finish_through_the_others_when_one_is_killed()
    {
        var database = $"fleetload_{Guid.NewGuid():N}";
        PostgresServer.Sql("postgres", $"CREATE DATABASE {database}");
        var catalog = PostgresServer.ConnectionString(database);
        var packs = RgwServer.Instance.CreateBucket("fleetload");
        string[] Shared(string data) => ["--data", data, "--catalog", catalog, "--packs", packs];

        var starting = Enumerable.Range(0, 3).Select(h => Path.Combine(_folder.Path, $"host-{h}"))
            .Select(d => RunningHost.StartOnAsync(d, "depot", autoApprove: true, extra: ["--http", "off", .. Shared(d)[2..]])).ToArray();
        var hosts = new List<RunningHost>();
        try
        {
            foreach (var start in starting)
            {
                hosts.Add(await start);
            }

            var victim = hosts[0];
            var run = new FleetRun(new FleetOptions
            {
                Hosts = [.. hosts.Select(h => LinkAddress.Parse(h.Address))],
                Devices = Devices,
                Concurrency = 6,
                Rounds = Rounds,
                KiB = 48,
                Folder = Path.Combine(_folder.Path, "devices"),
            })
            {
                // A third of the way through: devices are mid-session on it, and later ones are sent to it first.
                OnCommitted = count =>
                {
                    if (count == Devices * Rounds / 3)
                    {
                        victim.Process.Kill();
                    }
                },
            };
            run.Prepare();
            var report = await run.RunAsync(CancellationToken.None);
            output.WriteLine($"{report.Backups} backups in {report.Elapsed.TotalSeconds:0.0} s, {report.Failovers} failovers");

            Assert.True(victim.Process.HasExited, "the host was never killed");
            Assert.True(!report.Failed.Any(), "devices failed: " + string.Join("\n", report.Failed.Select(d => $"{d.Name}: {d.Error}")));
            Assert.All(report.Devices, d => Assert.Equal(Rounds, d.Snapshots.Count));
            // The devices sent to the dead host first went on to another (else the check above fails).
            Assert.True(report.Failovers > 0, "no device ever met the killed host");

            // Every host served sessions; what the killed host committed is in the catalog, and so is every device's backup.
            var served = hosts.Select(h => Committed(h.Process.Stderr)).ToList();
            output.WriteLine("snapshots committed by host: " + string.Join(", ", served.Select(s => s.Count)));
            Assert.All(served, s => Assert.NotEmpty(s));
            var inCatalog = PostgresServer.Sql(database, "SELECT id FROM snapshots").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(id => long.Parse(id, CultureInfo.InvariantCulture)).ToHashSet();
            Assert.Subset(inCatalog, served.SelectMany(s => s).ToHashSet());
            Assert.Subset(inCatalog, report.Devices.SelectMany(d => d.Snapshots).ToHashSet());

            var survivor = hosts[1];
            var check = await CradleProcess.RunAsync(["host", "check", "--read-data", .. Shared(survivor.Data)]);
            Assert.True(check.ExitCode == 0, check.ToString());

            // A sample restores identical: the first device of each third (partnered through different hosts).
            foreach (var device in new[] { report.Devices[0], report.Devices[Devices / 3], report.Devices[^1] })
            {
                var target = Path.Combine(_folder.Path, "restored", device.Name);
                var restore = await CradleProcess.RunAsync(["host", "restore", device.Name, "--to", target, .. Shared(survivor.Data)]);
                Assert.True(restore.ExitCode == 0, restore.ToString());
                TreeAssert.Identical(device.DataFolder, Directory.GetDirectories(target).Single());
            }
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    /// <summary>The snapshot ids a host's log says it committed.</summary>
    private static List<long> Committed(string log) =>
        [.. CommitLine().Matches(log).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex(@": snapshot (\d+) committed")]
    private static partial Regex CommitLine();
}
