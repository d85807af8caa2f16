using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cradle.EndToEnd.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser over the real <c>cradle host run</c>: what an operator clicks
/// and sees, checked against what the devices and the host really did.
/// </summary>
public sealed partial class DashboardBrowserTests(Chromium chromium) : IClassFixture<Chromium>, IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Approving_a_pending_partnership_by_clicking_lets_the_device_back_up()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot", autoApprove: false);
        var dashboard = await host.Process.DashboardAddressAsync();
        var device = new TestDevice(_folder.Path, "ap");
        Assert.Equal(0, (await device.InitAsync("MX7-21")).ExitCode);
        await using var connect = device.StartConnect(null, "--host", host.Address, "--once");

        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, dashboard);
        await page.GotoAsync(dashboard + "#/pending");
        var row = page.Locator("tr[data-code]", new() { HasText = "MX7-21" });
        await Expect(row).ToBeVisibleAsync();
        var code = await row.GetAttributeAsync("data-code");
        Assert.True(await connect.WaitForOutputAsync($"shows code {code}", TimeSpan.FromSeconds(30)), connect.Stderr);
        await Expect(page.Locator("#pending-count")).ToHaveTextAsync("1");

        await row.Locator("button.approve").ClickAsync();
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await Expect(page.Locator("#message")).ToContainTextAsync($"Approved MX7-21 (code {code})");
        await Expect(page.Locator("tr[data-code]")).ToHaveCountAsync(0);

        await page.Locator("nav a[data-view=devices]").ClickAsync();
        var deviceRow = page.Locator("tr[data-device='MX7-21']");
        await Expect(deviceRow.Locator("td").Nth(6)).ToHaveTextAsync("1");
        await Expect(deviceRow).ToContainTextAsync("network");
        await Expect(deviceRow).Not.ToContainTextAsync("overdue");
        var listed = await host.RunAsync("host", "devices", "--json");
        Assert.Contains("\"name\": \"MX7-21\"", listed.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_backup_shows_its_progress_advancing_live()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var dashboard = await host.Process.DashboardAddressAsync();
        var device = new TestDevice(_folder.Path, "pr");
        WriteRandomFiles(device.DataFolder, files: 12, megabytes: 12);
        Assert.Equal(0, (await device.InitAsync("MX7-22")).ExitCode);

        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, dashboard);
        await page.GotoAsync(dashboard + "#/sessions");
        await Expect(page.Locator("#stream-state")).ToHaveTextAsync("live");
        await using var connect = device.StartConnect(null, "--host", host.Address, "--once");

        // Catch the backup early, freeze the device (SIGSTOP) so the page holds still, and read it.
        var percent = page.Locator("tr[data-phase='backing-up'] .percent");
        var first = await WaitForPercentAsync(percent, p => p is > 0 and < 80);
        connect.Suspend();
        await Task.Delay(800);
        var held = await ReadPercentAsync(percent);
        Assert.True(held >= first, $"{held}% after {first}%");
        var row = page.Locator("tr[data-phase='backing-up']");
        await Expect(row).ToContainTextAsync("MX7-22");
        await Expect(row.Locator("td.progress")).ToContainTextAsync("of 144.0 MiB");
        await TakeScreenshotAsync(page, "sessions");

        connect.Resume();
        var later = await WaitForPercentAsync(page.Locator("tr[data-session] .percent"), p => p > held);
        Assert.True(later > held);
        Assert.Equal(0, await connect.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        var ended = page.Locator("tr[data-session]", new() { HasText = "finished" });
        await Expect(ended).ToContainTextAsync("MX7-22");
    }

    [Fact]
    public async Task A_file_downloaded_from_a_snapshot_has_the_device_files_bytes()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var dashboard = await host.Process.DashboardAddressAsync();
        var device = new TestDevice(_folder.Path, "dl");
        var original = Path.Combine(device.DataFolder, "scans", "day1", "pallets.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(original)!);
        File.WriteAllBytes(original, TestData.Bytes(23, 700_000));
        Assert.Equal(0, (await device.InitAsync("MX7-23")).ExitCode);
        var backup = await device.BackUpOnceAsync(host);
        Assert.True(backup.ExitCode == 0, backup.ToString());

        var page = await chromium.NewPageAsync();
        await page.SignInAsync(host, dashboard);
        await page.GotoAsync(dashboard + "#/devices");
        await page.Locator("tr[data-device='MX7-23'] a[href='#/device/MX7-23']").ClickAsync();
        await page.Locator("#browser a", new() { HasText = "data-dl/" }).ClickAsync();
        await page.Locator("#browser a", new() { HasText = "scans/" }).ClickAsync();
        await page.Locator("#browser a", new() { HasText = "day1/" }).ClickAsync();
        var link = page.Locator("tr[data-path='data-dl/scans/day1/pallets.bin'] a.download");
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        Assert.Equal("pallets.bin", download.SuggestedFilename);
        var saved = _folder["downloaded.bin"];
        await download.SaveAsAsync(saved);
        Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(saved));
    }

    [Fact]
    public async Task Beyond_loopback_a_request_without_the_token_is_refused_and_the_token_opens_the_page()
    {
        await using var host = await RunningHost.StartOnAsync(_folder["host-wide"], "depot", extra: ["--http", "0.0.0.0:0"]);
        var bound = await host.Process.DashboardAddressAsync();
        Assert.Equal("0.0.0.0", bound.Host);
        var dashboard = new UriBuilder(bound) { Host = "127.0.0.1" }.Uri;
        Assert.True(await host.Process.WaitForOutputAsync("dashboard token (new;", TimeSpan.FromSeconds(10)), host.Process.Stdout);
        var token = TokenLine().Match(host.Process.Stdout).Groups[1].Value;
        Assert.Equal(token, (await host.RunAsync("host", "http-token")).Stdout.Trim());

        var page = await chromium.NewPageAsync();
        var refused = await page.GotoAsync(dashboard.ToString());
        Assert.Equal(401, refused!.Status);
        Assert.Contains("needs its token", await refused.TextAsync(), StringComparison.Ordinal);
        using var anonymous = new HttpClient { BaseAddress = dashboard };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/v1/devices")).StatusCode);

        var opened = await page.GotoAsync($"{dashboard}?token={Uri.EscapeDataString(token)}");
        Assert.Equal(200, opened!.Status);
        Assert.Equal(dashboard.ToString(), page.Url);
        await Expect(page.Locator("#host-name")).ToHaveTextAsync("depot");
        await Expect(page.Locator("#stream-state")).ToHaveTextAsync("live");

        // Rotated: the old token stops working in the running host.
        var rotated = (await host.RunAsync("host", "http-token", "--rotate")).Stdout.Trim();
        Assert.NotEqual(token, rotated);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/v1/devices")).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rotated);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("api/v1/devices")).StatusCode);

        // The token is shown once on the console, never in the log.
        Assert.DoesNotContain(token, host.Process.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated, host.Process.Stdout + host.Process.Stderr, StringComparison.Ordinal);
    }

    private static void WriteRandomFiles(string folder, int files, int megabytes)
    {
        Directory.CreateDirectory(folder);
        var block = new byte[1 << 20];
        for (var f = 0; f < files; f++)
        {
            using var file = File.Create(Path.Combine(folder, $"scan-{f:00}.bin"));
            for (var m = 0; m < megabytes; m++)
            {
                TestData.Fill((ulong)((f * 1000) + m + 1), block);
                file.Write(block);
            }
        }
    }

    private static async Task<int> ReadPercentAsync(ILocator percent)
    {
        var text = await percent.First.TextContentAsync(new() { Timeout = 5_000 });
        return int.Parse(text!.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Reads the page's percentage until it satisfies the condition (as the page updates from its event stream).</summary>
    private static async Task<int> WaitForPercentAsync(ILocator percent, Func<int, bool> condition)
    {
        var seen = new List<int>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (await percent.CountAsync() > 0)
            {
                var text = await percent.First.TextContentAsync();
                if (text is not null && int.TryParse(text.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture, out var value))
                {
                    seen.Add(value);
                    if (condition(value))
                    {
                        return value;
                    }
                }
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"the page never showed the progress looked for; it showed: {string.Join(", ", seen.Distinct())}");
    }

    /// <summary>Saves a screenshot of the page into the folder CRADLE_SCREENSHOTS names (docs/ for the README), if any.</summary>
    internal static async Task TakeScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("CRADLE_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"dashboard-{name}.png"), FullPage = true });
    }

    [GeneratedRegex(@"dashboard token \(new; [^)]*\): (\S+)")]
    private static partial Regex TokenLine();

    public void Dispose() => _folder.Dispose();
}
