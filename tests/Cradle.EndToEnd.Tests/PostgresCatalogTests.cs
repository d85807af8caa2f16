using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The real <c>cradle host run --catalog</c> on the test run's PostgreSQL cluster: a device backs
/// up, the catalog lives in PostgreSQL (no cradle.db), and the operator's commands (check, prune,
/// snapshots, config) find it through the flag or CRADLE_HOST__CATALOG; the password in the
/// connection string is never printed or logged; a newer schema is refused with exit code 5.
/// </summary>
public sealed class PostgresCatalogTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_host_on_PostgreSQL_takes_a_backup_that_check_prune_and_snapshots_see_and_never_shows_the_password()
    {
        // Trust authentication: the server does not ask for the password, but the host holds it
        // like a real one, so it must not appear in anything the host prints or logs.
        var password = $"pg-secret-{Guid.NewGuid():N}";
        var database = $"e2e_{Guid.NewGuid():N}";
        PostgresServer.Sql("postgres", $"CREATE DATABASE {database}");
        var catalog = PostgresServer.ConnectionString(database, password);
        var env = new Dictionary<string, string> { ["CRADLE_HOST__CATALOG"] = catalog };

        var device = new TestDevice(_folder.Path, "pg");
        Directory.CreateDirectory(device.DataFolder);
        File.WriteAllBytes(Path.Combine(device.DataFolder, "big.bin"), TestData.Bytes(7, 700_000));
        Assert.Equal(0, (await device.InitAsync("PG-1")).ExitCode);
        var data = Path.Combine(_folder.Path, "host");
        var output = new List<(string Where, string Text)>();

        await using (var host = await RunningHost.StartOnAsync(data, "pghost", extra: ["--catalog", catalog, "--verbose", "--log-file", "logs/cradle.log"]))
        {
            Assert.Contains($"catalog: PostgreSQL 127.0.0.1:{PostgresServer.Port}/{database}", host.Process.Stdout);
            var backup = await device.BackUpOnceAsync(host);
            Assert.True(backup.ExitCode == 0, backup.ToString());
            host.Process.Interrupt();
            Assert.Equal(0, await host.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            output.Add(("host console", host.Process.Stdout + host.Process.Stderr));
        }

        output.Add(("host log file", File.ReadAllText(Path.Combine(data, "logs", "cradle.log"))));
        Assert.False(File.Exists(Path.Combine(data, "cradle.db")), "the catalog must be in PostgreSQL, not in the folder");
        Assert.Equal("1", PostgresServer.Sql(database, "SELECT COUNT(*) FROM snapshots"));
        Assert.Equal("1", PostgresServer.Sql(database, "SELECT COUNT(*) FROM partnerships WHERE device = 'PG-1'"));

        var check = await CradleProcess.RunAsync("host", "check", "--read-data", "--json", "--data", data, "--catalog", catalog);
        Assert.True(check.ExitCode == 0, check.ToString());
        var report = JsonDocument.Parse(check.Stdout).RootElement;
        Assert.True(report.GetProperty("ok").GetBoolean());
        Assert.Equal(1, report.GetProperty("snapshots").GetInt64());
        Assert.True(report.GetProperty("bytesRead").GetInt64() > 0);
        output.Add(("check", check.Stdout + check.Stderr));

        // Without the flag, the variable names the catalog (as cradle.json's "catalog" key would).
        var snapshots = await CradleProcess.RunWithAsync(env, "host", "snapshots", "--json", "--data", data);
        Assert.True(snapshots.ExitCode == 0, snapshots.ToString());
        Assert.Equal("PG-1", Assert.Single(JsonDocument.Parse(snapshots.Stdout).RootElement.EnumerateArray()).GetProperty("device").GetString());
        var prune = await CradleProcess.RunWithAsync(env, "host", "prune", "--keep-last", "1", "--yes", "--data", data);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Equal("1", PostgresServer.Sql(database, "SELECT COUNT(*) FROM snapshots"));
        output.Add(("snapshots and prune", snapshots.Stdout + snapshots.Stderr + prune.Stdout + prune.Stderr));

        var config = await CradleProcess.RunAsync("host", "config", "--data", data, "--catalog", catalog);
        Assert.True(config.ExitCode == 0, config.ToString());
        Assert.Contains("Password=***", config.Stdout);
        output.Add(("config", config.Stdout + config.Stderr));

        var bad = await CradleProcess.RunAsync("host", "check", "--data", data, "--catalog", catalog + ";Port=not-a-port");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        output.Add(("a bad setting", bad.Stdout + bad.Stderr));

        foreach (var (where, text) in output)
        {
            Assert.False(text.Contains(password, StringComparison.Ordinal), $"the password appears in the {where}");
        }

        // A catalog a newer Cradle migrated is refused, not guessed at.
        PostgresServer.Sql(database, "UPDATE meta SET value = '99' WHERE key = 'catalog_schema'");
        var newer = await CradleProcess.RunAsync("host", "check", "--data", data, "--catalog", catalog);
        Assert.True(newer.ExitCode == 5, newer.ToString());
        Assert.Contains("schema version 99", newer.Stderr);
    }
}
