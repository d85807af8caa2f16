using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A fleet: two real <c>cradle host run</c> processes sharing one PostgreSQL catalog and one
/// packs folder. They present one identity (the certificate lives in the catalog), so a device
/// partnered through one backs up through the other with the same partnership (P3 counts the
/// fleet once); prune and check run from either while devices back up through the other.
/// </summary>
public sealed class FleetTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_device_partnered_through_one_host_of_a_fleet_backs_up_through_another_while_prune_and_check_run_beside()
    {
        var database = $"fleet_{Guid.NewGuid():N}";
        PostgresServer.Sql("postgres", $"CREATE DATABASE {database}");
        var catalog = PostgresServer.ConnectionString(database);
        var packs = Path.Combine(_folder.Path, "shared-packs");
        string[] Shared(string data) => ["--data", data, "--catalog", catalog, "--packs", packs];
        var dataA = Path.Combine(_folder.Path, "host-a");
        var dataB = Path.Combine(_folder.Path, "host-b");

        // Both start on the empty database at once: one schema, one identity, one certificate.
        var starting = new[] { dataA, dataB }.Select(d => RunningHost.StartOnAsync(d, "depot", autoApprove: true, extra: ["--http", "off", .. Shared(d)[2..]])).ToArray();
        await using var hostA = await starting[0];
        await using var hostB = await starting[1];
        Assert.Equal("1", PostgresServer.Sql(database, "SELECT COUNT(*) FROM meta WHERE key = 'host_certificate'"));

        var device = new TestDevice(_folder.Path, "fleet");
        Directory.CreateDirectory(device.DataFolder);
        File.WriteAllBytes(Path.Combine(device.DataFolder, "first.bin"), TestData.Bytes(1, 400_000));
        Assert.Equal(0, (await device.InitAsync("FLEET-1")).ExitCode);
        var first = await device.BackUpOnceAsync(hostA);
        Assert.True(first.ExitCode == 0, first.ToString());

        // Through the other host: no new partnership, the same number, one slot used.
        File.WriteAllBytes(Path.Combine(device.DataFolder, "second.bin"), TestData.Bytes(2, 300_000));
        var second = await device.BackUpOnceAsync(hostB);
        Assert.True(second.ExitCode == 0, second + "\nhost B:\n" + hostB.Process.Stderr);
        var slots = JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray().ToList();
        Assert.Single(slots);
        Assert.Equal("2", PostgresServer.Sql(database, "SELECT COUNT(*) FROM snapshots WHERE device_key = 'FLEET-1'"));
        Assert.Equal("1", PostgresServer.Sql(database, "SELECT COUNT(DISTINCT number) FROM snapshots"));

        // Maintenance from host B's side while the device backs up through host A, three rounds.
        for (var round = 0; round < 3; round++)
        {
            File.WriteAllBytes(Path.Combine(device.DataFolder, $"round-{round}.bin"), TestData.Bytes((ulong)(10 + round), 500_000));
            File.Delete(Path.Combine(device.DataFolder, round == 0 ? "first.bin" : $"round-{round - 1}.bin"));
            var backup = device.BackUpOnceAsync(hostA);
            var prune = await CradleProcess.RunAsync(["host", "prune", "--keep-last", "1", "--yes", .. Shared(dataB)]);
            Assert.True(prune.ExitCode == 0, prune.ToString());
            var check = await CradleProcess.RunAsync(["host", "check", .. Shared(dataB)]);
            Assert.True(check.ExitCode == 0, check.ToString());
            var done = await backup;
            Assert.True(done.ExitCode == 0, done + "\nhost A:\n" + hostA.Process.Stderr);
        }

        // Once nothing runs, prune sweeps everything marked; every snapshot left restores, read in full.
        var last = await CradleProcess.RunAsync(["host", "prune", "--keep-last", "1", "--yes", .. Shared(dataA)]);
        Assert.True(last.ExitCode == 0, last.ToString());
        var clean = await CradleProcess.RunAsync(["host", "check", "--read-data", .. Shared(dataA)]);
        Assert.True(clean.ExitCode == 0, clean.ToString());
        var target = Path.Combine(_folder.Path, "restored");
        var restore = await CradleProcess.RunAsync(["host", "restore", "FLEET-1", "--to", target, .. Shared(dataB)]);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(device.DataFolder, Directory.GetDirectories(target).Single());
    }
}
