using System.Net;
using System.Text.Json;
using Cradle.ActiveSync.Emulator;
using Cradle.Host;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// Renaming a cradled device from the host (P8, and P5's one-step way out), through the host's
/// real API (Kestrel on loopback, the token, the cross-site header): the real host service and
/// emulated devices over loopback TCP, in one process.
/// </summary>
public sealed class DeviceRenameTests
{
    private const string Partners = EmulatedRegistry.PartnersPath;

    [Fact]
    public async Task P5_a_device_refused_for_its_default_name_is_renamed_from_the_host_and_partners_and_backs_up_under_the_new_name()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        var first = rig.Device("Pocket_PC", "a");
        HostBackupTests.Write(first, @"My Documents\a.txt", TestData.Bytes(1, 1_000));
        Assert.Equal("connected", await rig.SyncAsync(first));
        var firstNumber = rig.Record("Pocket_PC")!.Number;
        await rig.UnplugAsync(first);

        // The fleet's second handheld, under the same default name: refused (P5), it waits cradled.
        var second = rig.Device("Pocket_PC", "b");
        var b = HostBackupTests.Write(second, @"My Documents\b.txt", TestData.Bytes(2, 2_000));
        Assert.StartsWith("refused (P5)", await rig.SyncAsync(second), StringComparison.Ordinal);

        var (status, body) = await api.RenameAsync("Pocket_PC", "Pocket_PC_2", consent: true);

        Assert.True(status == HttpStatusCode.OK, body);
        using (var result = JsonDocument.Parse(body))
        {
            Assert.Equal("Pocket_PC_2", result.RootElement.GetProperty("newName").GetString());
            Assert.Equal("not-partnered", result.RootElement.GetProperty("standing").GetString());
            Assert.False(result.RootElement.GetProperty("hostRecordKept").GetBoolean());
        }

        Assert.Equal("Pocket_PC_2", second.Registry.DeviceName);
        // The connection that carried the old name ends; the device's next one partners.
        await LoopbackRig.WaitForAsync(() => !second.IsConnected, "the renamed device's connection to end");
        Assert.Equal("connected", await rig.SyncAsync(second));
        var record = rig.Record("Pocket_PC_2");
        Assert.NotNull(record);
        Assert.Equal(record.Number, second.Registry.Get(Partners + @"\P1", "PId")?.AsDWord());
        var snapshot = Assert.Single(rig.Snapshots("Pocket_PC_2"));
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(await rig.RestoreAsync(snapshot), "My Documents", "b.txt")));
        // The first device's partnership is untouched.
        Assert.Equal(firstNumber, rig.Record("Pocket_PC")!.Number);
        Assert.Single(rig.Snapshots("Pocket_PC"));
    }

    [Fact]
    public async Task P8_renaming_a_partnered_device_ends_every_partnership_it_holds_and_the_old_record_is_never_reused()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        var device = rig.Device("MX7_P", "p");
        // Another PC's partnership in slot 2: P8 ends it too.
        device.Registry.Set(Partners + @"\P2", "PId", RegistryValueJson.FromDWord(0x2222_2222));
        device.Registry.Set(Partners + @"\P2", "PName", RegistryValueJson.String("OFFICE"));
        HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(3, 1_000));
        Assert.Equal("connected", await rig.SyncAsync(device));
        var old = rig.Record("MX7_P")!.Number;
        Assert.Equal(old, device.Registry.Get(Partners + @"\P1", "PId")?.AsDWord());

        var (status, body) = await api.RenameAsync("MX7_P", "MX7_Q", consent: true);

        Assert.True(status == HttpStatusCode.OK, body);
        using (var result = JsonDocument.Parse(body))
        {
            Assert.Equal(2, result.RootElement.GetProperty("ended").GetArrayLength());
            Assert.True(result.RootElement.GetProperty("hostRecordKept").GetBoolean());
        }

        await LoopbackRig.WaitForAsync(() => !device.IsConnected, "the renamed device's connection to end");
        Assert.Equal("MX7_Q", device.Registry.DeviceName);
        Assert.False(device.Registry.KeyExists(Partners + @"\P1"));
        Assert.False(device.Registry.KeyExists(Partners + @"\P2"));
        Assert.Equal(0u, device.Registry.Get(Partners, "PCur")?.AsDWord() ?? 0u);

        // Next connection: a new partnership under the new name; the old record and backups stay (P4).
        Assert.Equal("connected", await rig.SyncAsync(device));
        var fresh = rig.Record("MX7_Q")!.Number;
        Assert.NotEqual(old, fresh);
        Assert.Equal(fresh, device.Registry.Get(Partners + @"\P1", "PId")?.AsDWord());
        Assert.False(device.Registry.KeyExists(Partners + @"\P2"));
        Assert.Equal(old, rig.Record("MX7_P")!.Number);
        Assert.Single(rig.Snapshots("MX7_P"));
        Assert.Single(rig.Snapshots("MX7_Q"));

        // Back to the old name: refused (P5) — the ended partnership is not taken up again.
        var (back, backBody) = await api.RenameAsync("MX7_Q", "MX7_P", consent: true);
        Assert.Equal(HttpStatusCode.Conflict, back);
        Assert.Contains("P5", backBody, StringComparison.Ordinal);
        Assert.Equal("MX7_Q", device.Registry.DeviceName);
    }

    [Fact]
    public async Task A_rename_without_consent_to_an_invalid_or_held_name_or_of_a_device_not_connected_is_refused_and_writes_nothing()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        using (var registry = PartnershipRegistry.Open(rig.Host.Store.Database))
        {
            var taken = DeviceName.Parse("MX7_TAKEN");
            Assert.NotNull(registry.TryCreate(taken, 0x1234_5678, "activesync"));
            Assert.True(registry.Confirm(taken, 0x1234_5678));
        }

        var device = rig.Device("MX7_H", "h");
        HostBackupTests.Write(device, @"My Documents\a.txt", TestData.Bytes(4, 100));
        Assert.Equal("connected", await rig.SyncAsync(device));
        var number = device.Registry.Get(Partners + @"\P1", "PId")?.AsDWord();
        var writes = device.Counters["CeRegSetValueEx"] + device.Counters["CeRegDeleteKey"];

        var (noConsent, noConsentBody) = await api.RenameAsync("MX7_H", "MX7_NEW", consent: false);
        Assert.Equal(HttpStatusCode.BadRequest, noConsent);
        Assert.Contains("P8", noConsentBody, StringComparison.Ordinal);

        foreach (var bad in new[] { "9lives", "has space", "MX7_FAR_TOO_LONG_NAME", "" })
        {
            var (invalid, invalidBody) = await api.RenameAsync("MX7_H", bad, consent: true);
            Assert.True(invalid == HttpStatusCode.BadRequest, $"{bad}: {invalidBody}");
            Assert.Contains("P1", invalidBody, StringComparison.Ordinal);
        }

        var (held, heldBody) = await api.RenameAsync("MX7_H", "mx7_taken", consent: true);
        Assert.Equal(HttpStatusCode.Conflict, held);
        Assert.Contains("P5", heldBody, StringComparison.Ordinal);

        var (same, _) = await api.RenameAsync("MX7_H", "mx7_h", consent: true);
        Assert.Equal(HttpStatusCode.BadRequest, same);

        var (absent, absentBody) = await api.RenameAsync("MX7_GONE", "MX7_NEW", consent: true);
        Assert.Equal(HttpStatusCode.Conflict, absent);
        Assert.Contains("is connected", absentBody, StringComparison.Ordinal);

        var (elsewhere, _) = await api.RenameAsync("MX7_H", "MX7_NEW", consent: true, connection: "127.0.0.1:1");
        Assert.Equal(HttpStatusCode.Conflict, elsewhere);

        // A page on another site cannot do it: no cross-site header, or a foreign Origin.
        Assert.Equal(HttpStatusCode.Forbidden, await api.RenameWithoutGuardAsync("MX7_H", "MX7_NEW", header: false, origin: null));
        Assert.Equal(HttpStatusCode.Forbidden, await api.RenameWithoutGuardAsync("MX7_H", "MX7_NEW", header: true, origin: "http://evil.example"));

        // Nothing reached the device, which stays connected and partnered.
        Assert.Equal("MX7_H", device.Registry.DeviceName);
        Assert.Equal(number, device.Registry.Get(Partners + @"\P1", "PId")?.AsDWord());
        Assert.Equal(writes, device.Counters["CeRegSetValueEx"] + device.Counters["CeRegDeleteKey"]);
        Assert.True(device.IsConnected);
        Assert.Null(rig.Record("MX7_NEW"));
    }

    [Fact]
    public async Task P5_two_renames_to_one_new_name_at_once_the_second_is_refused_while_the_first_is_under_way_or_done()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        var a = rig.Device("MX7_A", "a");
        Assert.Equal("connected", await rig.SyncAsync(a));
        await WaitPartneredAsync(rig, "MX7_A");

        // A slow device: the first rename is still writing when the second is asked (the name is
        // not in the host's registry yet, so the registry's P5 check alone passes both).
        a.Faults.ReplyDelayMsByCall["CeRegDeleteKey"] = 300;
        a.Faults.ReplyDelayMsByCall["CeRegSetValueEx"] = 300;
        var both = await Task.WhenAll(api.RenameAsync("MX7_A", "MX7_X", consent: true), api.RenameAsync("MX7_A", "MX7_X", consent: true));

        Assert.Single(both, r => r.Status == HttpStatusCode.OK);
        var refused = Assert.Single(both, r => r.Status == HttpStatusCode.Conflict);
        Assert.Contains("P5", refused.Body, StringComparison.Ordinal);
        Assert.Contains("being renamed", refused.Body, StringComparison.Ordinal);
        Assert.Equal("MX7_X", a.Registry.DeviceName);
        await LoopbackRig.WaitForAsync(() => !a.IsConnected, "the renamed device's connection to end");

        // Done, and the renamed device not partnered under the name yet: another device is refused it.
        var b = rig.Device("MX7_B", "b");
        Assert.Equal("connected", await rig.SyncAsync(b));
        await WaitPartneredAsync(rig, "MX7_B");
        Assert.Null(rig.Record("MX7_X"));
        var (again, againBody) = await api.RenameAsync("MX7_B", "mx7_x", consent: true);
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("P5", againBody, StringComparison.Ordinal);
        Assert.Equal("MX7_B", b.Registry.DeviceName);

        // A rename that failed before writing (no such device) leaves its name free for the next.
        var (absent, _) = await api.RenameAsync("MX7_GONE", "MX7_Y", consent: true);
        Assert.Equal(HttpStatusCode.Conflict, absent);
        var (free, freeBody) = await api.RenameAsync("MX7_B", "MX7_Y", consent: true);
        Assert.True(free == HttpStatusCode.OK, freeBody);
        Assert.Equal("MX7_Y", b.Registry.DeviceName);
    }

    /// <summary>Waits until each named device is connected and partnered (SyncAsync returns once any device is).</summary>
    private static Task WaitPartneredAsync(HostRig rig, params string[] names) =>
        LoopbackRig.WaitForAsync(() => Task.FromResult(names.All(name => rig.Host.ActiveSyncDevices.All().Any(s => s.Device?.Value == name && s.Standing == "partnered"))), $"{string.Join(" and ", names)} to be partnered");

    [Fact]
    public async Task The_api_lists_the_cradled_devices_with_their_connection_and_standing()
    {
        await using var rig = await HostRig.StartAsync();
        await using var api = await HostApi.StartAsync(rig);
        var device = rig.Device("MX7_L", "l");
        Assert.Equal("connected", await rig.SyncAsync(device));

        using var rows = JsonDocument.Parse(await api.Client.GetStringAsync("api/v1/activesync/devices"));

        var row = Assert.Single(rows.RootElement.EnumerateArray());
        Assert.Equal("MX7_L", row.GetProperty("device").GetString());
        Assert.Equal("partnered", row.GetProperty("standing").GetString());
        Assert.StartsWith("127.0.0.1:", row.GetProperty("connection").GetString(), StringComparison.Ordinal);
    }
}
