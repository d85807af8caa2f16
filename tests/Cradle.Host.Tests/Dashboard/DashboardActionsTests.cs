using System.Net;
using System.Net.Http.Json;
using Cradle.Device;
using Cradle.Host.Dashboard;

namespace Cradle.Host.Tests.Dashboard;

/// <summary>The API's state-changing side: approve, deny, forget, restore to a folder on the host.</summary>
public sealed class DashboardActionsTests
{
    private static Dictionary<string, byte[]> Files() => new() { ["a/one.txt"] = "one"u8.ToArray(), ["b.bin"] = new byte[70_000] };

    [Fact]
    public async Task Approving_a_pending_partnership_lets_the_device_back_up()
    {
        await using var host = await DashboardHost.StartAsync(autoApprove: false);
        var observer = new CodeObserver();
        var backup = host.Device("MX7-09", Files()).BackUpAsync(observer);

        var pending = await WaitForAsync(() => host.GetAsync<List<PendingRow>>("api/v1/pending"), list => list.Count == 1);
        var row = pending[0];
        Assert.Equal("MX7-09", row.Device);
        Assert.Equal(await observer.Code.Task, row.Code);
        Assert.Empty(await host.GetAsync<List<DeviceRow>>("api/v1/devices"));

        using var approve = await host.Client.PostAsync($"api/v1/pending/{row.Code}/approve", null);
        await HttpAssert.StatusAsync(HttpStatusCode.OK, approve);
        var result = await backup.WaitAsync(TimeSpan.FromSeconds(60));

        var device = Assert.Single(await host.GetAsync<List<DeviceRow>>("api/v1/devices"));
        Assert.Equal(("MX7-09", 1), (device.Name, device.Snapshots));
        Assert.Equal(result.SnapshotId, Assert.Single(await host.GetAsync<List<SnapshotRow>>("api/v1/snapshots")).Id);
        Assert.Empty(await host.GetAsync<List<PendingRow>>("api/v1/pending"));
        // Decided already: the answer says so (409) and what came of it.
        await HttpAssert.StatusAsync(HttpStatusCode.Conflict, await host.Client.PostAsync($"api/v1/pending/{row.Code}/approve", null));
    }

    [Fact]
    public async Task Get_connected_has_the_host_watch_a_port_under_dev_once_and_nothing_else()
    {
        await using var host = await DashboardHost.StartAsync();
        foreach (var (port, baud) in new (string?, int?)[] { ("/etc/passwd", null), ("/dev/../etc/passwd", null), ("dev/ttyS0", null), ("", null), (null, null), ("/dev/ttyCRADLE9", 10) })
        {
            using var refused = await host.Client.PostAsJsonAsync("api/v1/serial-ports", new WatchSerialPortRequest(port, baud));
            await HttpAssert.StatusAsync(HttpStatusCode.BadRequest, refused);
        }

        Assert.Empty((await host.GetAsync<HostInfo>("api/v1/host")).SerialPorts);
        Assert.Empty(host.Service.SerialPorts);

        // A port that is not there yet (an adapter not plugged in) is watched all the same.
        using var first = await host.Client.PostAsJsonAsync("api/v1/serial-ports", new WatchSerialPortRequest("/dev/ttyCRADLE9", 57600));
        await HttpAssert.StatusAsync(HttpStatusCode.OK, first);
        Assert.Equal(new WatchSerialPortDone("/dev/ttyCRADLE9@57600", true), await first.Content.ReadFromJsonAsync<WatchSerialPortDone>(DashboardHost.JsonOptions));
        using var again = await host.Client.PostAsJsonAsync("api/v1/serial-ports", new WatchSerialPortRequest("/dev/ttyCRADLE9", null));
        Assert.Equal(new WatchSerialPortDone("/dev/ttyCRADLE9", false), await again.Content.ReadFromJsonAsync<WatchSerialPortDone>(DashboardHost.JsonOptions));
        Assert.Equal(["/dev/ttyCRADLE9@57600"], (await host.GetAsync<HostInfo>("api/v1/host")).SerialPorts);
    }

    [Fact]
    public async Task Denying_a_pending_partnership_refuses_the_device()
    {
        await using var host = await DashboardHost.StartAsync(autoApprove: false);
        var backup = host.Device("MX7-10", Files()).BackUpAsync();
        var pending = await WaitForAsync(() => host.GetAsync<List<PendingRow>>("api/v1/pending"), list => list.Count == 1);

        using var deny = await host.Client.PostAsync($"api/v1/pending/{pending[0].Code}/deny", null);
        await HttpAssert.StatusAsync(HttpStatusCode.OK, deny);
        var refused = await Assert.ThrowsAsync<Protocol.SessionRefusedException>(() => backup.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("approval", refused.Rule);
        Assert.Empty(await host.GetAsync<List<DeviceRow>>("api/v1/devices"));
    }

    [Fact]
    public async Task Forgetting_a_device_releases_its_name_and_removes_or_keeps_its_snapshots()
    {
        await using var host = await DashboardHost.StartAsync();
        await host.Device("MX7-01", Files()).BackUpAsync();
        await host.Device("MX7-02", Files()).BackUpAsync();

        using var keep = await host.Client.DeleteAsync("api/v1/devices/MX7-01?keepBackups=true");
        await HttpAssert.StatusAsync(HttpStatusCode.OK, keep);
        Assert.Equal(new ForgetResult("MX7-01", true, 0, 1), await keep.Content.ReadFromJsonAsync<ForgetResult>(DashboardHost.JsonOptions));
        using var drop = await host.Client.DeleteAsync("api/v1/devices/mx7-02");
        Assert.Equal(new ForgetResult("MX7-02", true, 1, 0), await drop.Content.ReadFromJsonAsync<ForgetResult>(DashboardHost.JsonOptions));

        Assert.Empty(await host.GetAsync<List<DeviceRow>>("api/v1/devices"));
        Assert.Equal(["MX7-01"], (await host.GetAsync<List<SnapshotRow>>("api/v1/snapshots")).Select(s => s.Device));
        // Gone now: an unknown device is 404 here as it is for its snapshots (and exit 2 in the CLI).
        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.DeleteAsync("api/v1/devices/MX7-02"));
        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.GetAsync("api/v1/devices/MX7-02/snapshots"));
    }

    [Fact]
    public async Task Restoring_to_a_host_folder_writes_every_file_and_never_into_a_folder_with_files()
    {
        await using var host = await DashboardHost.StartAsync();
        var device = host.Device("MX7-01", Files());
        var id = (await device.BackUpAsync()).SnapshotId;
        var target = Path.Combine(host.Service.Store.Folder, "restores", "restored");

        using var response = await host.Client.PostAsJsonAsync($"api/v1/snapshots/{id}/restore", new RestoreRequest("restored"));
        await HttpAssert.StatusAsync(HttpStatusCode.OK, response);
        var done = await response.Content.ReadFromJsonAsync<RestoreDone>(DashboardHost.JsonOptions);
        Assert.Equal((2L, 70_003L), (done!.Files, done.Bytes));
        Assert.Equal(File.ReadAllBytes(Path.Combine(device.Data, "b.bin")), File.ReadAllBytes(Path.Combine(target, "data", "b.bin")));
        Assert.Equal("one", File.ReadAllText(Path.Combine(target, "data", "a", "one.txt")));

        Assert.Equal(target, done.To);
        await HttpAssert.StatusAsync(HttpStatusCode.BadRequest, await host.Client.PostAsJsonAsync($"api/v1/snapshots/{id}/restore", new RestoreRequest(target)));
        await HttpAssert.StatusAsync(HttpStatusCode.BadRequest, await host.Client.PostAsJsonAsync($"api/v1/snapshots/{id}/restore", new RestoreRequest(Path.Combine(host.Folder, "outside"))));
        await HttpAssert.StatusAsync(HttpStatusCode.BadRequest, await host.Client.PostAsJsonAsync($"api/v1/snapshots/{id}/restore", new RestoreRequest("../outside")));
        Assert.False(Directory.Exists(Path.Combine(host.Folder, "outside")));
        await HttpAssert.StatusAsync(HttpStatusCode.OK, await host.Client.PostAsJsonAsync($"api/v1/snapshots/{id}/restore", new RestoreRequest(Path.Combine(host.Service.Store.Folder, "restores", "nested", "folder"))));
        await HttpAssert.StatusAsync(HttpStatusCode.NotFound, await host.Client.PostAsJsonAsync($"api/v1/snapshots/{id + 5}/restore", new RestoreRequest("other")));
    }

    [Fact]
    public async Task The_event_stream_reports_sessions_devices_and_pending()
    {
        await using var host = await DashboardHost.StartAsync();
        await host.Device("MX7-01", Files()).BackUpAsync();

        // The device is done once it has sent its goodbye; the host's session ends a moment later.
        await WaitForAsync(() => host.GetAsync<SessionsView>("api/v1/sessions"), s => s.Ended.Count == 1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await host.Client.GetAsync("api/v1/events", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        var events = new Dictionary<string, string>();
        string? name = null;
        while (events.Count < 3 && await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
            {
                events[name] = line["data: ".Length..];
            }
        }

        var sessions = System.Text.Json.JsonSerializer.Deserialize<SessionsView>(events["sessions"], DashboardHost.JsonOptions)!;
        var ended = Assert.Single(sessions.Ended);
        Assert.Equal(("MX7-01", "goodbye"), (ended.Device, ended.Outcome));
        Assert.Equal((2L, 2L, 70_003L, 70_003L), (ended.FilesDone, ended.FilesTotal, ended.BytesDone, ended.BytesTotal));
        Assert.Contains("\"MX7-01\"", events["devices"], StringComparison.Ordinal);
        Assert.Equal("[]", events["pending"]);
    }

    internal static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    private sealed class CodeObserver : ISessionObserver
    {
        public TaskCompletionSource<string> Code { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ApprovalCode(string hostName, string code, TimeSpan timeout) => Code.TrySetResult(code);
    }
}
