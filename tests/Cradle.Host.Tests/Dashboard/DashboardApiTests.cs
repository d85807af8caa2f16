using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Cradle.Host.Dashboard;

namespace Cradle.Host.Tests.Dashboard;

/// <summary>The JSON API read side against a real host and store: what was backed up is what the API shows and serves.</summary>
public sealed class DashboardApiTests
{
    private static readonly byte[] Big = RandomNumberGenerator.GetBytes(300_000);
    private static readonly byte[] Small = "scan 1: ok\nscan 2: ok\n"u8.ToArray();

    private static Dictionary<string, byte[]> Files() => new() { ["scans/big.bin"] = Big, ["scans/day1/log.txt"] = Small, ["notes.txt"] = "hello"u8.ToArray() };

    [Fact]
    public async Task Devices_and_snapshots_show_what_was_backed_up_in_the_CLI_shapes()
    {
        await using var host = await DashboardHost.StartAsync();
        var device = host.Device("MX7-01", Files());
        var backup = await device.BackUpAsync();

        var devices = await host.GetAsync<List<DeviceRow>>("api/v1/devices");
        var row = Assert.Single(devices);
        Assert.Equal("MX7-01", row.Name);
        Assert.Equal(1, row.Snapshots);
        Assert.Equal(Big.Length + Small.Length + 5, row.Bytes);
        Assert.Equal("network", row.LastLink);
        Assert.NotNull(row.LastBackup);
        Assert.False(row.Overdue);
        Assert.Equal(row.Number.ToString("X8", System.Globalization.CultureInfo.InvariantCulture), row.NumberHex);

        var snapshots = await host.GetAsync<List<SnapshotRow>>("api/v1/devices/mx7-01/snapshots");
        var snapshot = Assert.Single(snapshots);
        Assert.Equal(backup.SnapshotId, snapshot.Id);
        Assert.Equal(3, snapshot.Files);
        Assert.Equal(snapshots, await host.GetAsync<List<SnapshotRow>>("api/v1/snapshots"));
    }

    [Fact]
    public async Task The_file_browser_lists_a_folder_with_its_files_and_subfolders()
    {
        await using var host = await DashboardHost.StartAsync();
        var id = (await host.Device("MX7-01", Files()).BackUpAsync()).SnapshotId;

        var top = await host.GetAsync<EntryListing>($"api/v1/snapshots/{id}/entries");
        Assert.Equal(["data"], top.Entries.Select(e => e.Name));
        var scans = await host.GetAsync<EntryListing>($"api/v1/snapshots/{id}/entries?path=data/scans");
        Assert.Equal(["day1", "big.bin"], scans.Entries.Select(e => e.Name));
        var day1 = scans.Entries[0];
        Assert.Equal(("folder", 1L, (long)Small.Length, "data/scans/day1"), (day1.Kind, day1.Files, day1.Size, day1.Path));
        Assert.Equal(("file", (long)Big.Length), (scans.Entries[1].Kind, scans.Entries[1].Size));

        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.GetAsync($"api/v1/snapshots/{id}/entries?path=data/nothing"));
        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.GetAsync($"api/v1/snapshots/{id + 100}/entries"));
        await HttpAssert.StatusAsync(HttpStatusCode.BadRequest, await host.Client.GetAsync($"api/v1/snapshots/{id}/entries?path=data/../../etc"));
    }

    [Fact]
    public async Task A_downloaded_file_has_the_original_bytes()
    {
        await using var host = await DashboardHost.StartAsync();
        var id = (await host.Device("MX7-01", Files()).BackUpAsync()).SnapshotId;

        using var response = await host.Client.GetAsync($"api/v1/snapshots/{id}/file?path=data/scans/big.bin");
        await HttpAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal(Big, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("big.bin", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);

        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.GetAsync($"api/v1/snapshots/{id}/file?path=data/scans"));
    }

    [Fact]
    public async Task A_folder_downloads_as_a_zip_with_every_file_below_it()
    {
        await using var host = await DashboardHost.StartAsync();
        var id = (await host.Device("MX7-01", Files()).BackUpAsync()).SnapshotId;

        using var response = await host.Client.GetAsync($"api/v1/snapshots/{id}/zip?path=data/scans");
        await HttpAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), ZipArchiveMode.Read);
        var files = zip.Entries.Where(e => !e.FullName.EndsWith('/')).ToDictionary(e => e.FullName, e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
        Assert.Equal(["scans/big.bin", "scans/day1/log.txt"], files.Keys.Order());
        Assert.Equal(Big, files["scans/big.bin"]);
        Assert.Equal(Small, files["scans/day1/log.txt"]);
    }

    [Fact]
    public async Task The_host_info_and_health_tell_the_store_apart_from_its_snapshots()
    {
        await using var host = await DashboardHost.StartAsync();
        // Two devices with the same files: the second stores nothing new (dedup across devices).
        await host.Device("MX7-01", Files()).BackUpAsync();
        await host.Device("MX7-02", Files()).BackUpAsync();

        var info = await host.GetAsync<HostInfo>("api/v1/host");
        Assert.Equal("test-host", info.Name);
        Assert.True(info.TokenRequired); // on loopback too
        Assert.Equal(host.Service.BoundAddress!.ToString(), info.Sessions);

        var health = await host.GetAsync<HealthReport>("api/v1/health");
        Assert.Null(health.LastCheck);
        Assert.Equal(2, health.Devices);
        Assert.Equal(2, health.Snapshots);
        Assert.Equal(2 * (Big.Length + Small.Length + 5), health.SnapshotBytes);
        Assert.InRange(health.DedupRatio, 1.9, 2.0);
        Assert.True(health.CompressionRatio >= 1.0, $"compression ratio {health.CompressionRatio}");
        Assert.True(health.SpaceUsed >= health.PackBytes + health.DatabaseBytes);

        using var check = await host.Client.PostAsJsonAsync("api/v1/check", new { readData = true });
        await HttpAssert.StatusAsync(HttpStatusCode.OK, check);
        var after = await host.GetAsync<HealthReport>("api/v1/health");
        Assert.NotNull(after.LastCheck);
        Assert.True(after.LastCheck.Ok);
        Assert.True(after.LastCheck.ReadData);
        Assert.Equal(0, after.LastCheck.Problems);
    }

    [Fact]
    public async Task An_unknown_endpoint_is_a_404_with_a_message()
    {
        await using var host = await DashboardHost.StartAsync();
        using var response = await host.Client.GetAsync("api/v1/nothing-here");
        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, response);
        var error = await response.Content.ReadFromJsonAsync<ApiError>(DashboardHost.JsonOptions);
        Assert.Contains("no such endpoint", error!.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_and_its_assets_are_served_from_the_program()
    {
        await using var host = await DashboardHost.StartAsync();
        var page = await host.Client.GetStringAsync("/");
        Assert.Contains("/assets/app.js", page, StringComparison.Ordinal);
        using var script = await host.Client.GetAsync("/assets/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/v1/events", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.GetAsync("/assets/nothing.js"));
    }
}
