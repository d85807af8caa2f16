using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Upgrades: what the previous release wrote (tests/fixtures/v0.4.0) opens in this one, and
/// a format from the future is refused by name. The unit tests refuse each unknown version
/// (CatalogTests, PackTests, SnapshotTreeTests, PartnershipRegistryTests, DeviceStateTests);
/// these check what a person sees from the real executable.
/// </summary>
public sealed class UpgradeTests : IDisposable
{
    private const string Release = "v0.4.0";
    private const string Device = "FIXTURE-1";
    private const string HostName = "fixture-host";
    private const string HostId = "4f8f6810d0929e44926af3928d42ba5d";
    private const uint Number = 0x8C4700EF;
    private const string AddedLater = "docs/added-later.txt";

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_host_folder_of_the_previous_release_checks_lists_and_restores_every_snapshot()
    {
        var fixture = await ReleaseFixture.ExtractAsync(Release, _folder["old"]);

        var check = await Host("check", "--read-data", "--json");
        Assert.True(check.ExitCode == 0, check.ToString());
        var report = JsonDocument.Parse(check.Stdout).RootElement;
        Assert.Equal((2L, 2L), (report.GetProperty("packs").GetInt64(), report.GetProperty("snapshots").GetInt64()));
        Assert.Empty(report.GetProperty("problems").EnumerateArray());

        var listed = await Host("snapshots", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var snapshots = JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray()
            .Select(s => (s.GetProperty("id").GetInt64(), s.GetProperty("device").GetString(), s.GetProperty("number").GetUInt32(), s.GetProperty("files").GetInt64(), s.GetProperty("suspect").GetBoolean()));
        Assert.Equal([(1L, Device, Number, 5L, false), (2L, Device, Number, 6L, false)], snapshots);

        var devices = await Host("devices", "--json");
        Assert.True(devices.ExitCode == 0, devices.ToString());
        var row = Assert.Single(JsonDocument.Parse(devices.Stdout).RootElement.EnumerateArray());
        Assert.Equal((Device, Number, 2), (row.GetProperty("name").GetString(), row.GetProperty("number").GetUInt32(), row.GetProperty("snapshots").GetInt32()));

        // Every snapshot, byte for byte and time for time (folders, the empty file, the nested folder too).
        foreach (var (id, without) in new[] { ("1", new[] { AddedLater }), ("2", []) })
        {
            var target = _folder[$"restored-{id}"];
            var restore = await Host("restore", Device, "--snapshot", id, "--to", target);
            Assert.True(restore.ExitCode == 0, restore.ToString());
            TreeAssert.Identical(fixture.ExpectedData(_folder[$"expected-{id}"], without), Path.Combine(target, "files"));
        }

        Assert.True(File.Exists(_folder["restored-2/files/empty.dat"]));
        Assert.Equal(0, new FileInfo(_folder["restored-2/files/empty.dat"]).Length);
        Assert.True(File.Exists(_folder["restored-2/files/docs/nested/deep.txt"]));
        Assert.False(File.Exists(_folder["restored-1/files/" + AddedLater]));
    }

    [Fact]
    public async Task A_device_state_folder_of_the_previous_release_shows_its_partnership_and_backs_up_to_the_old_host()
    {
        var fixture = await ReleaseFixture.ExtractAsync(Release, _folder["old"]);

        var status = await DeviceCommand("status", "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        var shown = JsonDocument.Parse(status.Stdout).RootElement;
        Assert.Equal(Device, shown.GetProperty("device").GetString());
        var last = shown.GetProperty("lastBackup");
        Assert.Equal((HostName, 2L, 6L), (last.GetProperty("host").GetString(), last.GetProperty("snapshot").GetInt64(), last.GetProperty("files").GetInt64()));

        var partnerships = await DeviceCommand("partnerships", "--json");
        Assert.True(partnerships.ExitCode == 0, partnerships.ToString());
        var slot = Assert.Single(JsonDocument.Parse(partnerships.Stdout).RootElement.EnumerateArray());
        Assert.Equal((HostName, HostId, Number, "8C4700EF"), (slot.GetProperty("host").GetString(), slot.GetProperty("hostId").GetString(), slot.GetProperty("number").GetUInt32(), slot.GetProperty("numberHex").GetString()));

        // The old device backs up to the old host: its secret, its pinned host certificate
        // (host.pfx) and the host's catalog all still work together. Its data folder moved here.
        var data = fixture.ExpectedData(_folder["data/files"]);
        File.WriteAllText(Path.Combine(data, "after-upgrade.txt"), "written after the upgrade\n");
        var identity = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.State, "persistent", "device.json")))!;
        identity["folders"]![0]!["path"] = data;
        File.WriteAllText(Path.Combine(fixture.State, "persistent", "device.json"), identity.ToJsonString());

        await using (var host = await RunningHost.StartOnAsync(fixture.Host, HostName, autoApprove: false))
        {
            var backup = await DeviceCommand("connect", "--host", host.Address, "--once");
            Assert.True(backup.ExitCode == 0, backup.ToString());
            Assert.Contains("snapshot 3 committed", backup.Stdout, StringComparison.Ordinal);

            // The catalog's migration to schema 4 gave the old snapshots' chunks to their device:
            // it sends only the file written since, not again what the host already keeps of it.
            Assert.True(backup.Stdout.Contains("sent 1 chunk,", StringComparison.Ordinal), backup.ToString());
        }

        var check = await Host("check", "--read-data");
        Assert.True(check.ExitCode == 0, check.ToString());
        var restore = await Host("restore", Device, "--to", _folder["restored"]);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(data, _folder["restored/files"]);
    }

    private const int Future = Cradle.Store.Catalog.SchemaVersion + 1;

    [Fact]
    public async Task A_catalog_from_the_future_is_refused_by_version_with_exit_code_5_and_the_host_does_not_start()
    {
        var fixture = await ReleaseFixture.ExtractAsync(Release, _folder["old"]);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(fixture.Host, "cradle.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // One past the newest this build knows (5 since issue 20's partial snapshots).
            command.CommandText = $"UPDATE meta SET value = '{Future}' WHERE key = 'catalog_schema'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var listed = await Host("snapshots");
        Assert.True(listed.ExitCode == 5, listed.ToString());
        Assert.Contains($"the catalog has schema version {Future}; this build knows versions 1 to {Future - 1} only (upgrade Cradle to open it)", listed.Stderr, StringComparison.Ordinal);

        var run = await CradleProcess.RunAsync("host", "run", "--data", fixture.Host, "--listen", "127.0.0.1:0");
        Assert.True(run.ExitCode == 5, run.ToString());
        Assert.Contains($"schema version {Future}", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pack_from_the_future_is_named_by_check_with_exit_code_5()
    {
        var fixture = await ReleaseFixture.ExtractAsync(Release, _folder["old"]);
        var pack = Directory.EnumerateFiles(Path.Combine(fixture.Host, "packs"), "*.pack", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        using (var file = new FileStream(pack, FileMode.Open, FileAccess.Write))
        {
            var version = new byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(version, 3);
            file.Position = 8;
            file.Write(version);
        }

        var check = await Host("check", "--read-data");
        Assert.True(check.ExitCode == 5, check.ToString());
        Assert.Contains("bad-pack-header", check.Stdout, StringComparison.Ordinal);
        Assert.Contains($"pack {Path.GetRelativePath(Path.Combine(fixture.Host, "packs"), pack)} has format version 3; this build reads versions 1 to 2 only", check.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("persistent/device.json", "status")]
    [InlineData("volatile/partnerships.json", "partnerships")]
    public async Task A_device_state_file_from_the_future_is_refused_by_version(string file, string command)
    {
        var fixture = await ReleaseFixture.ExtractAsync(Release, _folder["old"]);
        var path = Path.Combine(fixture.State, file);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["version"] = 2;
        File.WriteAllText(path, json.ToJsonString());

        var result = await DeviceCommand(command);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{file.Replace('/', Path.DirectorySeparatorChar)} has version 2; this build reads version 1 only", result.Stderr, StringComparison.Ordinal);
    }

    private Task<CradleProcess.Result> Host(params string[] args) =>
        CradleProcess.RunAsync(["host", .. args, "--data", _folder["old/host"]]);

    private Task<CradleProcess.Result> DeviceCommand(params string[] args) =>
        CradleProcess.RunAsync(["device", .. args, "--state", _folder["old/state"]]);
}
