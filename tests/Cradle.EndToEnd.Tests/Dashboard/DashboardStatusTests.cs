using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cradle.EndToEnd.Tests.Dashboard;

/// <summary>
/// What the dashboard says about each device, in a real browser over the real host: loading
/// until the data is there (never a false "no device"); whether a device is connected now and
/// over which link; partial, empty and overdue backups marked with the reason; colours that mean
/// the same everywhere; the hint naming the port this host really listens on.
/// </summary>
public sealed class DashboardStatusTests(Chromium chromium) : IClassFixture<Chromium>, IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Until_the_devices_arrive_the_page_says_it_is_loading_and_never_that_there_are_none()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-40")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        var dashboard = await host.Process.DashboardAddressAsync();

        // The list and the live stream held back, as on a slow link.
        var release = new TaskCompletionSource();
        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, dashboard);
        await page.RouteAsync("**/api/v1/devices", async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });
        await page.RouteAsync("**/api/v1/events", async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });
        await page.GotoAsync(dashboard.ToString());

        await Expect(page.Locator("#view .loading")).ToHaveTextAsync("Loading the devices…");
        await Expect(page.Locator("#no-devices")).ToHaveCountAsync(0);
        release.SetResult();
        await Expect(page.Locator("tr[data-device='MX7-40']")).ToBeVisibleAsync();
        await Expect(page.Locator("#view .loading")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task With_no_device_yet_the_hint_names_the_port_this_host_listens_on()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var port = host.Address.Split(':')[1];
        Assert.NotEqual("5679", port);

        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, await host.Process.DashboardAddressAsync());
        await page.GotoAsync((await host.Process.DashboardAddressAsync()).ToString());

        await Expect(page.Locator("#no-devices")).ToContainTextAsync($"cradle device connect --host 127.0.0.1:{port}");
    }

    [Fact]
    public async Task Each_device_shows_whether_it_is_connected_now_and_how_its_last_backup_stands_with_the_reason()
    {
        await using var host = await RunningHost.StartOnAsync(_folder["host"], "depot", extra: ["--overdue-after", "0.001"]);
        var gone = new TestDevice(_folder.Path, "gone");
        var empty = new TestDevice(_folder.Path, "empty");
        var live = new TestDevice(_folder.Path, "live");
        foreach (var (device, name) in new[] { (gone, "MX7-41"), (empty, "MX7-42"), (live, "MX7-43") })
        {
            Directory.CreateDirectory(device.DataFolder);
            for (var i = 0; i < 12; i++)
            {
                File.WriteAllText(Path.Combine(device.DataFolder, $"scan-{i:00}.log"), $"{name} scan {i}\n");
            }

            Assert.Equal(0, (await device.InitAsync(name)).ExitCode);
            Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        }

        // MX7-41's data folder is gone (partial), MX7-42's is empty; MX7-43 stays connected.
        Directory.Move(gone.DataFolder, gone.DataFolder + ".away");
        Assert.Equal(6, (await gone.BackUpOnceAsync(host)).ExitCode);
        foreach (var file in Directory.GetFiles(empty.DataFolder))
        {
            File.Delete(file);
        }

        Assert.Equal(6, (await empty.BackUpOnceAsync(host)).ExitCode);
        await using var connected = live.StartConnect(null, "--host", host.Address, "--interval", "1");

        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, await host.Process.DashboardAddressAsync());
        await page.GotoAsync((await host.Process.DashboardAddressAsync()).ToString());

        var liveRow = page.Locator("tr[data-device='MX7-43']");
        await Expect(liveRow.Locator("td.now .tag.connected")).ToHaveTextAsync("connected now · network");
        var goneRow = page.Locator("tr[data-device='MX7-41']");
        await Expect(goneRow.Locator("td.now")).ToHaveTextAsync("last over network");
        await Expect(goneRow.Locator(".tag.status")).ToHaveTextAsync("partial");
        await Expect(goneRow.Locator(".tag.status")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bbad\b"));
        await Expect(goneRow.Locator("td.last-snapshot .reason")).ToContainTextAsync("could not be read");
        await Expect(goneRow.Locator("td.last-snapshot .reason")).ToContainTextAsync("does not exist (not mounted?)");
        var emptyRow = page.Locator("tr[data-device='MX7-42']");
        await Expect(emptyRow.Locator(".tag.status")).ToHaveTextAsync("empty");
        await Expect(emptyRow.Locator("td.last-snapshot .reason")).ToContainTextAsync("no file at all");
        await Expect(liveRow.Locator(".tag.status")).ToHaveTextAsync("complete");
        await Expect(liveRow.Locator(".tag.status")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bok\b"));
        await Expect(goneRow.Locator(".tag.overdue")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bwarn\b"));
        await DashboardBrowserTests.TakeScreenshotAsync(page, "devices-status");

        // Colours that mean something: a live session is news, not an alarm.
        await Expect(page.Locator("#live-count")).ToHaveTextAsync("1");
        var badge = await page.Locator("#live-count").EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor");
        var alarm = await goneRow.Locator(".tag.status").EvaluateAsync<string>("e => getComputedStyle(e).color");
        Assert.Equal("rgb(10, 102, 194)", badge);
        Assert.Equal("rgb(198, 40, 40)", alarm);

        // The snapshot list and the file browser say the same, and which entries were kept from before.
        await goneRow.Locator("a").First.ClickAsync();
        var partial = page.Locator("tr[data-snapshot='4']");
        await Expect(partial.Locator(".tag.status")).ToHaveTextAsync("partial");
        await Expect(page.Locator("#browser tr[data-path='data-gone'] .tag.problem")).ToHaveTextAsync("not read in this backup");
        await Expect(page.Locator("#browser tr[data-path='data-gone'] .reason")).ToContainTextAsync("the version of snapshot 1 is kept");

        // Disconnected: the row says so within a moment.
        Assert.Equal(0, (await live.RunAsync("disconnect")).ExitCode);
        await page.Locator("nav a[data-view=devices]").ClickAsync();
        await Expect(liveRow.Locator("td.now")).ToHaveTextAsync("last over network", new() { Timeout = 30_000 });
    }
}
