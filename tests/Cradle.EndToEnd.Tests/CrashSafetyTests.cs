using System.Security.Cryptography;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The store survives SIGKILL of the real host process at random moments of backups (chunk
/// writes, pack sealing, the commit) and of prune: after every kill the store checks clean with
/// every chunk read, every listed snapshot restores byte for byte to the data of its round, and
/// no half snapshot is ever listed.
/// </summary>
public sealed class CrashSafetyTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const int Rounds = 50;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Fifty_kills_during_backups_and_prunes_never_lose_or_half_commit_a_snapshot()
    {
        var data = Path.Combine(_folder.Path, "host-crashy");
        var device = new TestDevice(_folder.Path, "crash");
        Directory.CreateDirectory(device.DataFolder);
        var random = new Random(20261125);
        for (var i = 0; i < 40; i++)
        {
            File.WriteAllText(Path.Combine(device.DataFolder, $"log-{i:00}.txt"), $"log {i}\n");
        }

        Assert.Equal(0, (await device.RunAsync("init", "--name", "CRASH-1", "--folder", device.DataFolder)).ExitCode);
        var roundOf = new Dictionary<long, int>();
        var rounds = new List<Dictionary<string, string>>();
        var outcomes = new Dictionary<string, int>();
        var kills = 0;
        var known = new HashSet<long>();
        // The kill falls at a random moment up to the quickest backup seen so far: with the
        // longest instead, one slow backup (a loaded machine) made most later kills land after
        // the commit, and a quiet machine then killed too few backups (2 of 40 in one run).
        var quickest = TimeSpan.FromSeconds(1);
        var restores = 0;

        for (var round = 0; round < Rounds; round++)
        {
            // The day's changes: a fresh incompressible file (new chunks to write), logs that grow.
            var fresh = new byte[(12 + random.Next(12)) * 1024 * 1024];
            random.NextBytes(fresh);
            File.WriteAllBytes(Path.Combine(device.DataFolder, "fresh.bin"), fresh);
            File.AppendAllText(Path.Combine(device.DataFolder, $"log-{random.Next(40):00}.txt"), $"round {round}\n");
            rounds.Add(Manifest(device.DataFolder));

            var host = await RunningHost.StartOnAsync(data, "crashy");
            await using (host)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                await using var backup = CradleProcess.Start("device", "connect", "--host", host.Address, "--once", "--state", device.State);
                // Every fifth round the backup may finish (so committed snapshots accumulate and
                // the kill lands just after a commit); otherwise the kill falls anywhere in it.
                var wait = round % 5 == 4 ? TimeSpan.FromMinutes(2) : TimeSpan.FromMilliseconds(random.Next((int)quickest.TotalMilliseconds));
                await Task.WhenAny(Task.Delay(wait), backup.WaitForExitAsync(TimeSpan.FromMinutes(2)));
                host.Process.Kill();
                kills++;
                var code = await backup.WaitForExitAsync(TimeSpan.FromMinutes(1));
                if (code == 0 && round % 5 == 4)
                {
                    quickest = clock.Elapsed < quickest ? clock.Elapsed : quickest;
                }

                Count(outcomes, code == 0 ? "backup committed before the kill" : "backup killed");
            }

            if (round % 3 == 2)
            {
                // Prune under the same kill loop.
                await using var prune = CradleProcess.Start("host", "prune", "--keep-last", "2", "--yes", "--data", data);
                await Task.WhenAny(Task.Delay(random.Next(400)), prune.WaitForExitAsync(TimeSpan.FromMinutes(1)));
                var finished = prune.HasExited;
                prune.Kill();
                kills++;
                Count(outcomes, finished ? "prune finished before the kill" : "prune killed");
            }
            else if (round % 3 == 1)
            {
                var prune = await CradleProcess.RunAsync("host", "prune", "--keep-last", "3", "--yes", "--data", data);
                Assert.True(prune.ExitCode == 0, prune.ToString());
            }

            var check = await CradleProcess.RunAsync("host", "check", "--read-data", "--json", "--data", data);
            Assert.True(check.ExitCode == 0, $"round {round}: check failed after a kill\n{check}");
            Assert.True(JsonDocument.Parse(check.Stdout).RootElement.GetProperty("ok").GetBoolean());

            foreach (var id in await SnapshotIdsAsync(data))
            {
                if (known.Add(id))
                {
                    // At most one new snapshot per round, and it holds this round's data.
                    Assert.False(roundOf.ContainsValue(round), $"round {round} produced two snapshots");
                    roundOf[id] = round;
                }
            }

            if (round % 10 == 9 || round == Rounds - 1)
            {
                foreach (var id in await SnapshotIdsAsync(data))
                {
                    var target = Path.Combine(_folder.Path, $"restore-{id}-{round}");
                    var restore = await CradleProcess.RunAsync("host", "restore", "CRASH-1", "--snapshot", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--to", target, "--data", data);
                    Assert.True(restore.ExitCode == 0, restore.ToString());
                    Assert.Equal(rounds[roundOf[id]], Manifest(Path.Combine(target, Path.GetFileName(device.DataFolder))));
                    Directory.Delete(target, recursive: true);
                    restores++;
                }
            }
        }

        output.WriteLine($"{kills} kills; {string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}"))}; {Rounds} checks with --read-data passed; {known.Count} snapshots made; {restores} restores of the snapshots listed every 10 rounds, each compared byte for byte with its round's data");
        Assert.True(kills >= 50, $"only {kills} kills");
        Assert.True(outcomes.GetValueOrDefault("backup killed") >= 10, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("backup committed before the kill") >= 3, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("prune killed") + outcomes.GetValueOrDefault("prune finished before the kill") >= 10, string.Join(", ", outcomes));
    }

    [Fact]
    public async Task Chunks_that_reached_durable_packs_before_a_kill_are_not_sent_again()
    {
        var data = Path.Combine(_folder.Path, "host-reuse");
        var device = new TestDevice(_folder.Path, "reuse");
        Directory.CreateDirectory(device.DataFolder);
        // Large enough that the backup is still running well after two packs were sealed, even
        // with the native build on a fast disk (the kill must land before the commit).
        var big = new byte[320 * 1024 * 1024];
        new Random(5).NextBytes(big);
        File.WriteAllBytes(Path.Combine(device.DataFolder, "video.mp4"), big);
        Assert.Equal(0, (await device.RunAsync("init", "--name", "REUSE-1", "--folder", device.DataFolder)).ExitCode);

        var host = await RunningHost.StartOnAsync(data, "reuse");
        await using (host)
        {
            await using var backup = CradleProcess.Start("device", "connect", "--host", host.Address, "--once", "--state", device.State);
            // Kill once at least two packs were sealed and named by the catalog, before the commit.
            var sealedPacks = 0;
            for (var i = 0; i < 600 && sealedPacks < 2 && !backup.HasExited; i++)
            {
                await Task.Delay(20);
                sealedPacks = await SealedPackCountAsync(data);
            }

            host.Process.Kill();
            Assert.NotEqual(0, await backup.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.True(sealedPacks >= 2, $"the backup finished before two packs were sealed ({sealedPacks})");
        }

        Assert.Empty(await SnapshotIdsAsync(data));
        var again = await RunningHost.StartOnAsync(data, "reuse");
        await using (again)
        {
            var result = await device.RunAsync("connect", "--host", again.Address, "--once", "--json");
            Assert.True(result.ExitCode == 0, result.ToString());
            var sent = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("wireBytesSent").GetInt64();
            Assert.True(sent < big.Length - (24L * 1024 * 1024), $"sent {sent} bytes of {big.Length}: the sealed packs were not reused");
        }
    }

    private static async Task<int> SealedPackCountAsync(string data)
    {
        var db = Path.Combine(data, "cradle.db");
        if (!File.Exists(db))
        {
            return 0;
        }

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM packs";
        try
        {
            return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return 0;
        }
    }

    private static async Task<List<long>> SnapshotIdsAsync(string data)
    {
        var result = await CradleProcess.RunAsync("host", "snapshots", "--json", "--data", data);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()).ToList();
    }

    private static Dictionary<string, string> Manifest(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(root, f),
            f => $"{new FileInfo(f).Length}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}:{File.GetLastWriteTimeUtc(f).Ticks}");

    private static void Count(Dictionary<string, int> outcomes, string what) => outcomes[what] = outcomes.GetValueOrDefault(what) + 1;

    public void Dispose() => _folder.Dispose();
}
