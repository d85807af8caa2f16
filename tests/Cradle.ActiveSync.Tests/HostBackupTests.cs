using Cradle.ActiveSync.Emulator;
using Cradle.Host;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The host's ActiveSync sessions end to end in one process: the real host service (interface
/// watcher, listener, store, registry) and emulated devices over loopback TCP.
/// </summary>
public sealed class HostBackupTests
{
    private static readonly DateTime Monday = new(2024, 3, 4, 9, 15, 30, DateTimeKind.Utc);

    [Fact]
    public async Task A_first_backup_stores_documents_and_storage_cards_byte_exact_owned_by_the_device_and_checked()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_A", "a", o => { o.StorageCards = ["Storage Card"]; return o; });
        var a = Write(device, @"My Documents\a.txt", TestData.Bytes(1, 1_000));
        var b = Write(device, @"My Documents\scans\b.bin", TestData.Bytes(2, 700_000));
        var c = Write(device, @"Storage Card\c.bin", TestData.Bytes(3, 90_000));
        Write(device, @"Windows\system.dat", TestData.Bytes(4, 5_000));

        Assert.Equal("connected", await rig.SyncAsync(device));

        var snapshot = Assert.Single(rig.Snapshots("MX7_A"));
        Assert.Equal("activesync", snapshot.Link);
        Assert.Equal(3, snapshot.Files);
        var restored = await rig.RestoreAsync(snapshot);
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(restored, "My Documents", "a.txt")));
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(restored, "My Documents", "scans", "b.bin")));
        Assert.Equal(c, await File.ReadAllBytesAsync(Path.Combine(restored, "Storage Card", "c.bin")));
        Assert.Equal(Monday, File.GetLastWriteTimeUtc(Path.Combine(restored, "My Documents", "a.txt")));
        Assert.False(Directory.Exists(Path.Combine(restored, "Windows")));

        // Chunk ownership (schema 4): what the host read from this device is this device's.
        using (var catalog = rig.Host.Store.OpenCatalog())
        {
            Assert.True(catalog.CountOwned(DeviceName.Parse("MX7_A").Key) >= 3);
        }

        var check = await new StoreChecker(rig.Host.Store).CheckAsync(readData: true, null, CancellationToken.None);
        Assert.True(check.Ok, string.Join("; ", check.Problems.Select(p => p.Detail)));
    }

    [Fact]
    public async Task The_partnership_is_written_to_the_device_registry_and_recorded_on_the_host_with_link_activesync()
    {
        await using var rig = await HostRig.StartAsync(hostName: "depot-7");
        var device = rig.Device("Pocket_PC", "p");
        Write(device, @"My Documents\a.txt", TestData.Bytes(5, 100));

        Assert.Equal("connected", await rig.SyncAsync(device));

        var record = rig.Record("Pocket_PC")!;
        Assert.True(record.Confirmed);
        Assert.Equal("activesync", record.LastLink);
        Assert.NotNull(record.LastBackup);
        var partners = EmulatedRegistry.PartnersPath;
        Assert.Equal(record.Number, device.Registry.Get(partners + @"\P1", "PId")?.AsDWord());
        Assert.Equal("depot-7", device.Registry.Get(partners + @"\P1", "PName")?.AsText());
        Assert.Equal(1u, device.Registry.Get(partners, "PCur")?.AsDWord());

        // The next connection is the same partnership: no new record, no new slot.
        await rig.UnplugAsync(device);
        Assert.Equal("connected", await rig.SyncAsync(device));
        Assert.Equal(record.Number, rig.Record("Pocket_PC")!.Number);
        Assert.False(device.Registry.KeyExists(partners + @"\P2"));
    }

    [Fact]
    public async Task An_unchanged_device_is_verified_by_listings_alone_and_a_changed_file_is_the_only_one_read_again()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_B", "b");
        Write(device, @"My Documents\big.bin", TestData.Bytes(6, 400_000));
        Write(device, @"My Documents\notes.txt", TestData.Bytes(7, 3_000));
        Assert.Equal("connected", await rig.SyncAsync(device));
        await rig.UnplugAsync(device);
        var readsAfterFirst = device.Counters.ReadFileCalls;
        var bytesAfterFirst = device.Counters.FileBytesSent;
        Assert.True(readsAfterFirst > 0);

        Assert.Equal("connected", await rig.SyncAsync(device));
        await rig.UnplugAsync(device);

        Assert.Equal(readsAfterFirst, device.Counters.ReadFileCalls);
        Assert.Equal(bytesAfterFirst, device.Counters.FileBytesSent);
        var unchanged = Assert.Single(rig.Snapshots("MX7_B"));
        Assert.NotNull(unchanged.Verified);

        var changed = Write(device, @"My Documents\notes.txt", TestData.Bytes(8, 3_500), Monday.AddHours(1));
        Assert.Equal("connected", await rig.SyncAsync(device));

        Assert.Equal(bytesAfterFirst + changed.Length, device.Counters.FileBytesSent);
        var snapshots = rig.Snapshots("MX7_B");
        Assert.Equal(2, snapshots.Count);
        var restored = await rig.RestoreAsync(snapshots[^1]);
        Assert.Equal(changed, await File.ReadAllBytesAsync(Path.Combine(restored, "My Documents", "notes.txt")));
        Assert.Equal(TestData.Bytes(6, 400_000), await File.ReadAllBytesAsync(Path.Combine(restored, "My Documents", "big.bin")));
    }

    [Fact]
    public async Task A_device_that_vanishes_mid_file_leaves_no_snapshot_and_the_next_session_finishes_the_backup()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_C", "c");
        var big = Write(device, @"My Documents\big.bin", TestData.Bytes(9, 2_000_000));
        // Well past the first chunks (at most 256 KiB each): with 8 reads of 64 KiB in flight, the
        // replies still unparsed when the device vanishes are lost with the link, and at 700 KB the
        // host under load had sometimes not yet parsed a whole chunk (a flake in full runs).
        device.Faults.VanishAfterReadBytes = 1_500_000;

        var outcome = await rig.SyncAsync(device);

        Assert.NotEqual("connected", outcome);
        Assert.Empty(rig.Snapshots("MX7_C"));
        using (var catalog = rig.Host.Store.OpenCatalog())
        {
            // What crossed before the cut is kept, owned by the device: the next session need not store it again.
            Assert.True(catalog.CountOwned(DeviceName.Parse("MX7_C").Key) > 0);
        }

        device.Faults.VanishAfterReadBytes = 0;
        device.Return();
        Assert.Equal("connected", await rig.SyncAsync(device));
        var snapshot = Assert.Single(rig.Snapshots("MX7_C"));
        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(await rig.RestoreAsync(snapshot), "My Documents", "big.bin")));
    }

    [Fact]
    public async Task P5_a_second_device_with_a_name_already_partnered_is_refused_and_nothing_of_it_is_stored_or_written()
    {
        await using var rig = await HostRig.StartAsync();
        var first = rig.Device("Pocket_PC", "first");
        Write(first, @"My Documents\a.txt", TestData.Bytes(10, 100));
        Assert.Equal("connected", await rig.SyncAsync(first));
        await rig.UnplugAsync(first);
        var number = rig.Record("Pocket_PC")!.Number;

        var second = rig.Device("Pocket_PC", "second");
        Write(second, @"My Documents\other.txt", TestData.Bytes(11, 100));
        var outcome = await rig.SyncAsync(second);

        Assert.StartsWith("refused (P5)", outcome, StringComparison.Ordinal);
        Assert.Contains("rename this device", outcome, StringComparison.Ordinal);
        Assert.Equal(number, rig.Record("Pocket_PC")!.Number);
        Assert.Single(rig.Snapshots("Pocket_PC"));
        Assert.False(second.Registry.KeyExists(EmulatedRegistry.PartnersPath + @"\P1"));
        Assert.Equal(0, second.Counters.ReadFileCalls);
    }

    [Fact]
    public async Task P6_P7_a_cold_booted_device_loses_the_newest_partnership_keeps_the_other_and_is_refused_until_renamed_or_released()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_D", "d");
        var partners = EmulatedRegistry.PartnersPath;
        device.Registry.Set(partners + @"\P1", "PId", RegistryValueJson.FromDWord(0x1234_5678));
        device.Registry.Set(partners + @"\P1", "PName", RegistryValueJson.String("OLD-PC"));
        Write(device, @"My Documents\a.txt", TestData.Bytes(12, 100));
        Assert.Equal("connected", await rig.SyncAsync(device));
        await rig.UnplugAsync(device);
        Assert.Equal(rig.Record("MX7_D")!.Number, device.Registry.Get(partners + @"\P2", "PId")?.AsDWord());

        Assert.Equal(2, device.ColdBoot());
        var outcome = await rig.SyncAsync(device);

        Assert.StartsWith("refused (P5)", outcome, StringComparison.Ordinal);
        Assert.Contains("cold boot", outcome, StringComparison.Ordinal);
        Assert.Contains("cradle host forget MX7_D --keep-backups", outcome, StringComparison.Ordinal);
        Assert.Equal(0x1234_5678u, device.Registry.Get(partners + @"\P1", "PId")?.AsDWord());
        Assert.False(device.Registry.KeyExists(partners + @"\P2"));
        Assert.Single(rig.Snapshots("MX7_D"));
    }

    [Fact]
    public async Task P3_a_device_holding_two_partnerships_is_a_guest_and_nothing_of_it_is_backed_up()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_E", "e");
        var partners = EmulatedRegistry.PartnersPath;
        foreach (var (slot, id, name) in new[] { (1, 0x1111_1111u, "OFFICE"), (2, 0x2222_2222u, "HOME") })
        {
            device.Registry.Set($@"{partners}\P{slot}", "PId", RegistryValueJson.FromDWord(id));
            device.Registry.Set($@"{partners}\P{slot}", "PName", RegistryValueJson.String(name));
        }

        Write(device, @"My Documents\a.txt", TestData.Bytes(13, 100));
        var outcome = await rig.SyncAsync(device);

        Assert.StartsWith("refused (P3)", outcome, StringComparison.Ordinal);
        Assert.Contains("guest", outcome, StringComparison.Ordinal);
        Assert.Null(rig.Record("MX7_E"));
        Assert.Empty(rig.Snapshots("MX7_E"));
        Assert.Equal(0, device.Counters.ReadFileCalls);
        Assert.Equal(0x2222_2222u, device.Registry.Get($@"{partners}\P2", "PId")?.AsDWord());
    }

    [Fact]
    public async Task A_password_locked_device_is_refused_until_the_operator_sets_its_password_and_then_backs_up()
    {
        await using var rig = await HostRig.StartAsync();
        var device = rig.Device("MX7_F", "f", o => { o.Lock = EmulatedLock.Password; o.Password = "4711"; o.OsMajor = 5; o.OsMinor = 1; return o; });
        Write(device, @"My Documents\a.txt", TestData.Bytes(14, 100));

        var outcome = await rig.SyncAsync(device);
        Assert.StartsWith("refused (locked)", outcome, StringComparison.Ordinal);
        Assert.Contains("cradle host activesync-password MX7_F", outcome, StringComparison.Ordinal);
        Assert.Empty(rig.Snapshots("MX7_F"));

        using (var registry = PartnershipRegistry.Open(rig.Host.Store.Database))
        {
            registry.SetActiveSyncPassword(DeviceName.Parse("MX7_F"), "4711");
        }

        Assert.Equal("connected", await rig.SyncAsync(device));
        Assert.Single(rig.Snapshots("MX7_F"));
    }

    internal static byte[] Write(EmulatedDevice device, string devicePath, byte[] content, DateTime? lastWriteUtc = null)
    {
        var path = Path.Combine([device.FileSystem.Root, .. devicePath.Split('\\')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, lastWriteUtc ?? Monday);
        return content;
    }
}
