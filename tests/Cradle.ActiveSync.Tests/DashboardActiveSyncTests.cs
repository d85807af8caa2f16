using Cradle.ActiveSync.Emulator;
using Cradle.EndToEnd.Tests.Dashboard;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The dashboard's ActiveSync buttons clicked in Debian's chromium: the host service and its
/// dashboard in this process, emulated devices over loopback TCP. A device refused by P5 is
/// renamed with a click (the prompt, then the P8 consent) and partners; a partnered one gets its
/// files back with "Restore to device".
/// </summary>
public sealed class DashboardActiveSyncTests(Chromium chromium) : IClassFixture<Chromium>
{
    [Fact]
    public async Task A_device_refused_by_P5_is_renamed_from_the_dashboard_partners_and_is_restored_onto_with_a_click()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        var first = rig.Device("Pocket_PC", "a");
        Assert.Equal("connected", await rig.SyncAsync(first));
        await rig.UnplugAsync(first);
        var second = rig.Device("Pocket_PC", "b");
        var b = HostBackupTests.Write(second, @"My Documents\b.txt", TestData.Bytes(7, 3_000));
        Assert.StartsWith("refused (P5)", await rig.SyncAsync(second), StringComparison.Ordinal);

        var page = await chromium.NewPageAsync();
        var opened = await page.GotoAsync($"{api.Address}?token={Uri.EscapeDataString(api.Token)}");
        Assert.Equal(200, opened!.Status);
        var answers = new Queue<string?>(["Pocket_PC_3", null, null]);
        var asked = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            asked.Add(dialog.Message);
            var answer = answers.Dequeue();
            await (answer is null ? dialog.AcceptAsync() : dialog.AcceptAsync(answer));
        };
        await page.GotoAsync(api.Address + "#/sessions");
        var refused = page.Locator("tr[data-activesync='Pocket_PC']");
        await Expect(refused).ToHaveAttributeAsync("data-standing", "not-partnered");

        await refused.Locator("button.rename").ClickAsync();

        await Expect(page.Locator("#message")).ToContainTextAsync("Renamed Pocket_PC to Pocket_PC_3");
        Assert.Contains(asked, m => m.Contains("ENDS EVERY PARTNERSHIP", StringComparison.Ordinal));
        Assert.Equal("Pocket_PC_3", second.Registry.DeviceName);
        await LoopbackRig.WaitForAsync(() => !second.IsConnected, "the renamed device's connection to end");
        Assert.Equal("connected", await rig.SyncAsync(second));
        Assert.Single(rig.Snapshots("Pocket_PC_3"));

        // The file lost on the device comes back with a click.
        File.Delete(Path.Combine(second.FileSystem.Root, "My Documents", "b.txt"));
        var partnered = page.Locator("tr[data-activesync='Pocket_PC_3']");
        await Expect(partnered).ToHaveAttributeAsync("data-standing", "partnered");
        await partnered.Locator("button.restore-device").ClickAsync();

        await Expect(page.Locator("#message")).ToContainTextAsync("Restored snapshot");
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(second.FileSystem.Root, "My Documents", "b.txt")));
        Assert.Empty(answers);
    }

    [Fact]
    public async Task A_page_on_another_site_cannot_rename_a_cradled_device()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        var device = rig.Device("Pocket_PC", "x");
        Assert.Equal("connected", await rig.SyncAsync(device));

        // The operator is signed in (the cookie is set); a page from elsewhere posts to the API.
        var page = await chromium.NewPageAsync();
        await page.GotoAsync($"{api.Address}?token={Uri.EscapeDataString(api.Token)}");
        var attacker = await page.Context.NewPageAsync();
        await attacker.RouteAsync("http://attacker.example/**", route => route.FulfillAsync(new() { ContentType = "text/html", Body = "<html><body>hello</body></html>" }));
        await attacker.GotoAsync("http://attacker.example/");
        var target = api.Address + "api/v1/activesync/rename";
        var results = await attacker.EvaluateAsync<string[]>(@"async target => {
            const body = JSON.stringify({ device: 'Pocket_PC', newName: 'Evil_1', consent: true });
            const out = [];
            for (const init of [
                { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body },
                { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-Cradle-Request': '1' }, body },
            ]) {
                try { const r = await fetch(target, init); out.push(String(r.status)); } catch (e) { out.push('blocked'); }
            }
            const form = document.createElement('form');
            form.method = 'POST'; form.action = target; form.enctype = 'text/plain';
            const field = document.createElement('input'); field.name = body; field.value = ''; form.appendChild(field);
            document.body.appendChild(form); form.submit();
            return out;
        }", target);
        await Task.Delay(1_500);

        Assert.Equal(2, results.Length);
        Assert.Equal("Pocket_PC", device.Registry.DeviceName);
        Assert.True(device.IsConnected);
        Assert.Null(rig.Record("Evil_1"));
    }
}
