using Cradle.LineRelay;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cradle.EndToEnd.Tests.Dashboard;

/// <summary>
/// Every page of the dashboard over a host with a history: what each shows, checked, and a
/// screenshot of each when CRADLE_SCREENSHOTS names a folder (docs/ holds the README's).
/// </summary>
public sealed class DashboardPagesTests(Chromium chromium) : IClassFixture<Chromium>, IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Every_page_shows_the_hosts_devices_sessions_pending_health_and_serial_ports()
    {
        var data = _folder["host"];
        var devices = new Dictionary<string, TestDevice>();
        await using (var first = await RunningHost.StartOnAsync(data, "depot-1"))
        {
            // A history: MX7-03 backed up once, long ago as this test goes; the others grow.
            foreach (var (name, backups) in new[] { ("MX7-03", 1), ("MX7-01", 3), ("MX7-02", 2) })
            {
                var device = devices[name] = new TestDevice(_folder.Path, name.ToLowerInvariant());
                Directory.CreateDirectory(Path.Combine(device.DataFolder, "scans"));
                Assert.Equal(0, (await device.InitAsync(name)).ExitCode);
                for (var b = 0; b < backups; b++)
                {
                    File.WriteAllBytes(Path.Combine(device.DataFolder, "scans", $"batch-{b}.bin"), TestData.Bytes((ulong)((name[^1] * 100) + b), 400_000 * (b + 1)));
                    File.AppendAllText(Path.Combine(device.DataFolder, "scan.log"), string.Concat(Enumerable.Repeat($"pallet {b} scanned ok\n", 2000)));
                    var backup = await device.BackUpOnceAsync(first);
                    Assert.True(backup.ExitCode == 0, backup.ToString());
                }
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        await using var host = await RunningHost.StartOnAsync(data, "depot-1", autoApprove: false, extra: ["--overdue-after", "0.001"]);
        var dashboard = await host.Process.DashboardAddressAsync();
        // A change, so this backup makes a fourth snapshot (an unchanged one would only verify the third).
        File.AppendAllText(Path.Combine(devices["MX7-01"].DataFolder, "scan.log"), "pallet 3 scanned ok\n");
        Assert.Equal(0, (await devices["MX7-01"].BackUpOnceAsync(host)).ExitCode);
        var newcomer = new TestDevice(_folder.Path, "new");
        Assert.Equal(0, (await newcomer.InitAsync("MX7-04")).ExitCode);
        await using var waiting = newcomer.StartConnect(null, "--host", host.Address, "--once");

        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, dashboard);
        await page.GotoAsync(dashboard.ToString());
        await Expect(page.Locator("tr[data-device]")).ToHaveCountAsync(3);
        await Expect(page.Locator("tr[data-device='MX7-03']")).ToContainTextAsync("overdue");
        await Expect(page.Locator("tr[data-device='MX7-01'] td").Nth(6)).ToHaveTextAsync("4");
        await Expect(page.Locator("#pending-count")).ToHaveTextAsync("1");
        await DashboardBrowserTests.TakeScreenshotAsync(page, "devices");

        await page.Locator("tr[data-device='MX7-01'] a[href='#/device/MX7-01']").ClickAsync();
        await Expect(page.Locator("tr[data-snapshot]")).ToHaveCountAsync(4);
        await page.Locator("#browser a", new() { HasText = "data-mx7-01/" }).ClickAsync();
        await page.Locator("#browser a", new() { HasText = "scans/" }).ClickAsync();
        await Expect(page.Locator("#browser tr[data-path]")).ToHaveCountAsync(3);
        await Expect(page.Locator("#browser tr[data-path='data-mx7-01/scans/batch-2.bin']")).ToContainTextAsync("1.1 MiB");
        await DashboardBrowserTests.TakeScreenshotAsync(page, "device");

        await page.Locator("nav a[data-view=sessions]").ClickAsync();
        await Expect(page.Locator("tr[data-phase='waiting-approval']")).ToContainTextAsync("MX7-04");
        await page.Locator("nav a[data-view=pending]").ClickAsync();
        var pending = page.Locator("tr[data-code]", new() { HasText = "MX7-04" });
        await Expect(pending).ToBeVisibleAsync();
        await DashboardBrowserTests.TakeScreenshotAsync(page, "pending");
        await pending.Locator("button.deny").ClickAsync();
        Assert.Equal(3, await waiting.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("denied", waiting.Stderr, StringComparison.Ordinal);

        await page.Locator("nav a[data-view=health]").ClickAsync();
        await Expect(page.Locator(".panel")).ToContainTextAsync("never");
        await page.Locator("#run-check").ClickAsync();
        await Expect(page.Locator("#message")).ToHaveTextAsync("Check finished: no problems.");
        await Expect(page.Locator(".panel")).ToContainTextAsync("no problems");
        await Expect(page.Locator("#size-chart polyline")).ToHaveCountAsync(3);
        await Expect(page.Locator("#size-chart circle")).ToHaveCountAsync(7);
        await DashboardBrowserTests.TakeScreenshotAsync(page, "health");

        // Get Connected: MX7-03 on a serial cable (a pseudo-terminal pair) offers a session; the
        // scan finds it at its rate, Connect has the running host watch the port, and it backs up.
        using var cable = SerialLineRelay.Start(new LineRelayOptions(LineBaud: 57600, EmulateBaudMismatch: true));
        var mx703 = devices["MX7-03"];
        File.WriteAllText(Path.Combine(mx703.DataFolder, "serial.log"), "sent over the cable\n");
        await using var offering = mx703.StartConnect(null, "--serial", cable.DevicePort, "--baud", "57600", "--once");
        Assert.True(await offering.WaitForOutputAsync("offering a session", TimeSpan.FromSeconds(30)), offering.Stderr);
        await page.Locator("nav a[data-view='get-connected']").ClickAsync();
        await page.Locator("#scan-ports").FillAsync(cable.HostPort);
        await page.Locator("#scan").ClickAsync();
        await Expect(page.Locator("#message")).ToContainTextAsync($"Found MX7-03 on {cable.HostPort} at 57600 baud", new() { Timeout = 60_000 });
        var found = page.Locator($"tr[data-port='{cable.HostPort}']");
        await Expect(found).ToContainTextAsync("device");
        await DashboardBrowserTests.TakeScreenshotAsync(page, "get-connected");

        await found.Locator("button.connect").ClickAsync();
        await Expect(page.Locator("#message")).ToContainTextAsync($"Connecting MX7-03 on {cable.HostPort}@57600");
        Assert.True(await offering.WaitForExitAsync(TimeSpan.FromSeconds(120)) == 0, offering.Stderr);
        await page.Locator("nav a[data-view=devices]").ClickAsync();
        await Expect(page.Locator("tr[data-device='MX7-03'] td.now")).ToContainTextAsync("serial");
        await Expect(page.Locator("tr[data-device='MX7-03'] td").Nth(6)).ToHaveTextAsync("2");
    }

    public void Dispose() => _folder.Dispose();
}
