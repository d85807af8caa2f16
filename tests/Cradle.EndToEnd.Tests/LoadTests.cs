using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Many devices at once and a flood of strangers' connections against one real host process:
/// every device's backup completes and restores byte for byte, every stalled connection is
/// closed by the host's timeouts, and the host's peak memory stays bounded (the figure is
/// printed). CRADLE_LOAD_DEVICES, CRADLE_LOAD_FLOOD (connections of each stall kind) and
/// CRADLE_LOAD_KIB (each device's new data) size it up for <c>bench/load.sh</c>.
/// </summary>
[Collection(nameof(LoadTests))]
public sealed class LoadTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The host's session timeout in this test; the devices ping well within it.</summary>
    private const int KeepaliveTimeout = 8;

    /// <summary>A bound no sane host comes near with this load (the measured peak is printed).</summary>
    private const long MemoryBoundKiB = 1024 * 1024;

    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Fifty_devices_back_up_at_once_through_a_flood_of_stalled_connections()
    {
        var devices = Setting("CRADLE_LOAD_DEVICES", 50);
        var floodEach = Setting("CRADLE_LOAD_FLOOD", 60);
        var newKiB = Setting("CRADLE_LOAD_KIB", 512);
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--keepalive-timeout", KeepaliveTimeout.ToString(CultureInfo.InvariantCulture)]);
        using var api = await host.DashboardClientAsync();
        var startRss = Memory(host.Process.Id, "VmRSS");

        // Every device: a file of its own, a file every device has (deduplicated), a log.
        var shared = TestData.Bytes(1, 256 * 1024);
        var fleet = new TestDevice[devices];
        await Parallel.ForAsync(0, devices, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var device = new TestDevice(_folder.Path, $"d{i:00}");
            Directory.CreateDirectory(device.DataFolder);
            File.WriteAllBytes(Path.Combine(device.DataFolder, "own.bin"), TestData.Bytes((ulong)(100 + i), 64 * 1024));
            File.WriteAllBytes(Path.Combine(device.DataFolder, "manual.pdf"), shared);
            var init = await device.InitAsync(Name(i));
            Assert.True(init.ExitCode == 0, init.ToString());
            fleet[i] = device;
        });

        var agents = new List<CradleProcess>();
        try
        {
            foreach (var device in fleet)
            {
                agents.Add(device.StartConnect(null, "--host", host.Address, "--interval", "1", "--keepalive-timeout", "6"));
            }

            // All partnered and backed up once, and all connected at the same time.
            await WaitForSnapshotsAsync(api, devices, 1);
            var connected = await WaitForLiveAsync(api, devices);
            output.WriteLine($"{connected} device sessions live at once after the first backups");

            // The strangers arrive; then every device gets new data at once and backs it up through them.
            await using var flood = await ConnectionFlood.OpenAsync(host.Address, floodEach);
            foreach (var (device, i) in fleet.Select((d, i) => (d, i)))
            {
                // Written beside the folder and moved in: the device never sees half a file (one more snapshot).
                var staged = Path.Combine(_folder.Path, $"new-{i:00}.bin");
                await File.WriteAllBytesAsync(staged, TestData.Bytes((ulong)(1000 + i), newKiB * 1024));
                File.Move(staged, Path.Combine(device.DataFolder, "new.bin"));
            }

            await WaitForSnapshotsAsync(api, devices, 2);
            var stillOpen = await flood.WaitUntilClosedAsync(TimeSpan.FromMinutes(2));
            Assert.True(stillOpen.Count == 0, "the host left stalled connections open: " + string.Join(", ", stillOpen.Select(k => $"{k.Key}: {k.Value}")));
            var peak = Memory(host.Process.Id, "VmHWM");
            var longest = string.Join(", ", flood.LongestOpen().OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value.TotalSeconds:0.0} s"));
            output.WriteLine($"{devices} devices ({newKiB} KiB new each), {flood.Count} stalled connections ({floodEach} of each of {Enum.GetValues<Stall>().Length} kinds): host VmRSS at start {startRss / 1024} MiB, VmHWM {peak / 1024} MiB; longest open until the host closed it: {longest}");
            Assert.True(peak < MemoryBoundKiB, $"host peak RSS {peak} KiB");
        }
        finally
        {
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }

        // Every device's second snapshot restores to exactly its data.
        var check = await host.RunAsync("host", "check", "--read-data");
        Assert.True(check.ExitCode == 0, check.ToString());
        api.DefaultRequestHeaders.Add("X-Cradle-Request", "1");
        foreach (var (device, i) in fleet.Select((d, i) => (d, i)))
        {
            var snapshots = await GetJsonAsync(api, $"api/v1/devices/{Name(i)}/snapshots");
            var latest = snapshots.EnumerateArray().Max(s => s.GetProperty("id").GetInt64());
            // Into the dashboard's restore root (restores/ in the host's folder), the only place it writes.
            var target = Path.Combine(host.Data, "restores", Name(i));
            var restore = await api.PostAsync($"api/v1/snapshots/{latest}/restore", new StringContent($"{{\"to\": \"{Name(i)}\"}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(restore.IsSuccessStatusCode, await restore.Content.ReadAsStringAsync());
            TreeAssert.Identical(device.DataFolder, Directory.GetDirectories(target).Single());
        }
    }

    [Fact]
    public async Task A_flood_past_the_hosts_open_file_limit_is_turned_away_and_the_host_keeps_its_reserve()
    {
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--http", "off"]);
        var device = new TestDevice(_folder.Path, "after");
        await device.InitAsync("MX7-AFTER");
        var first = await device.BackUpOnceAsync(host);
        Assert.True(first.ExitCode == 0, first.ToString());

        // Room for a few dozen connections, then a flood of 100 that stay until the host ends them.
        // Without the reserve the flood takes the last descriptor: accept(2) meets EMFILE, and when
        // the stalled handshakes time out (20 s) the JIT-run host aborted ("Out of memory").
        var open = Descriptors(host);
        var limit = open + 64;
        using (var prlimit = System.Diagnostics.Process.Start("prlimit", ["--pid", host.Process.Id.ToString(CultureInfo.InvariantCulture), $"--nofile={limit}:{limit}"]))
        {
            await prlimit.WaitForExitAsync();
            Assert.Equal(0, prlimit.ExitCode);
        }

        var peak = 0;
        await using (var flood = await ConnectionFlood.OpenAsync(host.Address, 100, Stall.Silent))
        {
            var closed = flood.WaitUntilClosedAsync(TimeSpan.FromMinutes(1));
            while (!closed.IsCompleted)
            {
                Assert.False(host.Process.HasExited, "the host died under the flood:\n" + host.Process.Stderr);
                peak = Math.Max(peak, Descriptors(host));
                await Task.WhenAny(closed, Task.Delay(50));
            }

            var stillOpen = await closed;
            Assert.True(stillOpen.Count == 0, $"the host left {stillOpen.Values.Sum()} stalled connections open");
        }

        Assert.False(host.Process.HasExited, "the host died under the flood:\n" + host.Process.Stderr);
        Assert.Contains("file descriptors open, 32 kept for the sessions running", host.Process.Stderr + host.Process.Stdout);
        // At most the reserve's half is spent by the moment's extras (a connection being refused, a listing).
        Assert.True(peak < limit - 16, $"the host let the flood take its reserve: {peak} of {limit} descriptors open at the peak");
        output.WriteLine($"{open} descriptors open before the flood, limit {limit}, peak {peak}");

        // The strangers are gone; the device backs up as before.
        File.WriteAllText(Path.Combine(device.DataFolder, "later.log"), "after the flood\n");
        var second = await device.BackUpOnceAsync(host);
        Assert.True(second.ExitCode == 0, second + "\nhost:\n" + host.Process.Stderr);
    }

    /// <summary>The host's open file descriptors now (0 once it has exited).</summary>
    private static int Descriptors(RunningHost host)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{host.Process.Id}/fd").Length;
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
    }

    private static string Name(int i) => $"MX7-LOAD-{i:00}";

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>A memory figure of /proc/PID/status in KiB (VmRSS now, VmHWM the peak).</summary>
    internal static long Memory(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient api, string path) =>
        JsonDocument.Parse(await api.GetStringAsync(path)).RootElement;

    private static async Task WaitForSnapshotsAsync(HttpClient api, int devices, int snapshots)
    {
        var done = 0;
        for (var i = 0; i < 1800; i++)
        {
            var list = await GetJsonAsync(api, "api/v1/devices");
            done = list.EnumerateArray().Count(d => d.GetProperty("snapshots").GetInt32() >= snapshots);
            if (done == devices)
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"only {done} of {devices} devices reached {snapshots} snapshots");
    }

    private static async Task<int> WaitForLiveAsync(HttpClient api, int devices)
    {
        var live = 0;
        for (var i = 0; i < 600; i++)
        {
            var sessions = await GetJsonAsync(api, "api/v1/sessions");
            live = sessions.GetProperty("live").EnumerateArray().Count(s => s.GetProperty("device").ValueKind == JsonValueKind.String && s.GetProperty("phase").GetString() == "connected");
            if (live == devices)
            {
                return live;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"only {live} of {devices} device sessions were live at once");
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>The load tests run alone: fifty devices starting at once would starve the other tests' short timeouts.</summary>
[CollectionDefinition(nameof(LoadTests), DisableParallelization = true)]
public sealed class LoadCollection;
