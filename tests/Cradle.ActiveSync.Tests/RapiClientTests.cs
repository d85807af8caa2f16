using Cradle.ActiveSync.Emulator;
using Cradle.ActiveSync.Partners;
using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Walk;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The RAPI client against the emulated device over real loopback TCP, after a real DCCM handshake:
/// trigger, control connection, "5 4 id", the device's new connection carrying the id.
/// </summary>
public sealed class RapiClientTests
{
    public static TheoryData<uint, uint> OsVersions => new()
    {
        { 4, 20 }, // Pocket PC 2003: RAPI1
        { 5, 2 }, // Windows Mobile 6: RAPI2
        { 6, 0 }, // Windows CE 6.0: RAPI2 (SynCE would pick RAPI1)
    };

    [Theory]
    [MemberData(nameof(OsVersions))]
    public async Task A_listing_shows_what_the_device_holds_with_sizes_and_times(uint major, uint minor)
    {
        await using var rig = LoopbackRig.Start(o => o with { OsMajor = major, OsMinor = minor });
        var when = new DateTime(2022, 12, 24, 18, 0, 1, DateTimeKind.Utc);
        rig.WriteFile(@"\My Documents\scan.csv", TestData.Text(1234), when);
        Directory.CreateDirectory(rig.HostPath(@"\My Documents\Orders"));
        var (channel, rapi) = await rig.ConnectRapiAsync();

        var entries = await rapi.FindAllFilesAsync(@"\My Documents\*.*");

        Assert.Equal(major > 4 ? RapiVersion.Rapi2 : RapiVersion.Rapi1, channel.RapiVersion);
        Assert.Equal(channel.RapiVersion, rapi.Version);
        Assert.Equal(new[] { "Orders", "scan.csv" }, entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        var scan = entries.Single(e => e.Name == "scan.csv");
        Assert.Equal(1234, scan.Size);
        Assert.Equal(when.ToFileTimeUtc(), scan.LastWriteTime);
        Assert.True(entries.Single(e => e.Name == "Orders").IsDirectory);
        Assert.Equal(1, rig.Counters["CeFindAllFiles"]);
    }

    [Theory]
    [MemberData(nameof(OsVersions))]
    public async Task A_file_reads_byte_exact_and_a_written_file_lands_with_its_time(uint major, uint minor)
    {
        await using var rig = LoopbackRig.Start(o => o with { OsMajor = major, OsMinor = minor });
        var content = TestData.Bytes(7, 300_000);
        rig.WriteFile(@"\My Documents\big.bin", content);
        var (_, rapi) = await rig.ConnectRapiAsync();

        Assert.Equal(content, await ReadAllAsync(rapi, @"\My Documents\big.bin", content.Length, rig.Options));

        var handle = await rapi.CreateFileAsync(@"\My Documents\back.bin", CeFileAccess.GenericWrite, 0, CeFileAccess.CreateAlways);
        for (var offset = 0; offset < content.Length; offset += 65536)
        {
            var written = await rapi.WriteFileAsync(handle, content.AsMemory(offset, Math.Min(65536, content.Length - offset)));
            Assert.Equal(Math.Min(65536, content.Length - offset), written);
        }

        var when = new DateTime(2019, 7, 1, 12, 0, 0, DateTimeKind.Utc).ToFileTimeUtc();
        if (rapi.Version == RapiVersion.Rapi2)
        {
            await rapi.SetFileTimeAsync(handle, new CeFileTimes(null, null, when));
            Assert.Equal(when, (await rapi.GetFileTimeAsync(handle)).LastWrite);
        }
        else
        {
            await Assert.ThrowsAsync<ActiveSyncNotSupportedException>(async () => await rapi.SetFileTimeAsync(handle, new CeFileTimes(null, null, when)));
        }

        Assert.Equal(content.Length, await rapi.GetFileSizeAsync(handle));
        await rapi.CloseHandleAsync(handle);
        Assert.Equal(content, await File.ReadAllBytesAsync(rig.HostPath(@"\My Documents\back.bin")));
        if (rapi.Version == RapiVersion.Rapi2)
        {
            Assert.Equal(DateTime.FromFileTimeUtc(when), File.GetLastWriteTimeUtc(rig.HostPath(@"\My Documents\back.bin")));
        }
    }

    [Theory]
    [MemberData(nameof(OsVersions))]
    public async Task Folders_are_made_and_removed_and_a_missing_file_is_null(uint major, uint minor)
    {
        await using var rig = LoopbackRig.Start(o => o with { OsMajor = major, OsMinor = minor });
        var (_, rapi) = await rig.ConnectRapiAsync();

        await rapi.CreateDirectoryAsync(@"\My Documents\Restore");
        Assert.Equal(CeFileAttributes.Directory, await rapi.GetFileAttributesAsync(@"\My Documents\Restore"));
        var again = await Assert.ThrowsAsync<RapiCallException>(async () => await rapi.CreateDirectoryAsync(@"\My Documents\Restore"));
        Assert.Equal(Win32Errors.AlreadyExists, again.Win32Error);
        await rapi.RemoveDirectoryAsync(@"\My Documents\Restore");
        Assert.Null(await rapi.GetFileAttributesAsync(@"\My Documents\Restore"));
        var missing = await Assert.ThrowsAsync<RapiCallException>(async () => await rapi.DeleteFileAsync(@"\My Documents\none.txt"));
        Assert.Equal(Win32Errors.FileNotFound, missing.Win32Error);
        Assert.False(rapi.IsBroken); // a call the device refuses ends the call, not the session
        Assert.True((await rapi.GetStoreInformationAsync()).StoreSize > 0);
        if (rapi.Version == RapiVersion.Rapi2)
        {
            Assert.True((await rapi.GetDiskFreeSpaceAsync(@"\My Documents")).TotalBytes > 0);
        }
    }

    [Theory]
    [MemberData(nameof(OsVersions))]
    public async Task The_partnership_registry_is_read_and_written_where_ActiveSync_keeps_it(uint major, uint minor)
    {
        await using var rig = LoopbackRig.Start(o => o with { OsMajor = major, OsMinor = minor, Name = "Pocket_PC" });
        var (_, rapi) = await rig.ConnectRapiAsync();

        Assert.Empty((await ActiveSyncPartnerships.ReadAsync(rapi)).Slots);
        Assert.Equal("Pocket_PC", await ActiveSyncPartnerships.ReadDeviceNameAsync(rapi));

        await ActiveSyncPartnerships.WriteSlotAsync(rapi, 1, 0x1111_2222, "depot-pc");
        await ActiveSyncPartnerships.WriteSlotAsync(rapi, 2, 0x3333_4444, "office-pc");
        var partners = await ActiveSyncPartnerships.ReadAsync(rapi);

        Assert.Equal(2, partners.CurrentSlot);
        Assert.Equal(new[] { new ActiveSyncPartnerSlot(1, 0x1111_2222, "depot-pc"), new ActiveSyncPartnerSlot(2, 0x3333_4444, "office-pc") }, partners.Slots);
        Assert.Equal(0x3333_4444u, rig.Device.Registry.Get(EmulatedRegistry.PartnersPath + @"\P2", "PId")?.DWord);
        Assert.Equal("office-pc", rig.Device.Registry.Get(EmulatedRegistry.PartnersPath + @"\P2", "PName")?.Text);
        Assert.Equal(0x3333_4444u, rig.Device.Registry.CurrentPartnerId);

        await ActiveSyncPartnerships.WriteDeviceNameAsync(rapi, "MX7_0042");
        Assert.Equal("MX7_0042", await ActiveSyncPartnerships.ReadDeviceNameAsync(rapi));
        Assert.True(await ActiveSyncPartnerships.RemoveSlotAsync(rapi, 1));
        Assert.False(await ActiveSyncPartnerships.RemoveSlotAsync(rapi, 1));
        Assert.Equal(new[] { 2 }, (await ActiveSyncPartnerships.ReadAsync(rapi)).Slots.Select(s => s.Slot));
    }

    [Fact]
    public async Task A_slot_is_made_current_only_once_its_id_and_name_are_written()
    {
        await using var rig = LoopbackRig.Start(o => o with { Name = "MX7_ORDER" });
        var (_, rapi) = await rig.ConnectRapiAsync();

        // The id's reply is broken (the session ends there) and late: a PCur sent along with the
        // id and the name would reach the device, which goes on reading requests meanwhile.
        rig.Device.Faults.DelayIsLatency = true;
        rig.Device.Faults.ReplyDelayMsByCall["CeRegSetValueEx"] = 200;
        rig.Device.Faults.OversizedReplyTo = "CeRegSetValueEx";
        await Assert.ThrowsAnyAsync<CradleException>(async () => await ActiveSyncPartnerships.WriteSlotAsync(rapi, 1, 0x1111_2222, "depot-pc"));
        await Task.Delay(300);

        Assert.True(rig.Device.Registry.KeyExists(EmulatedRegistry.PartnersPath + @"\P1"));
        Assert.Null(rig.Device.Registry.Get(EmulatedRegistry.PartnersPath, "PCur"));
        Assert.Equal(0u, rig.Device.Registry.CurrentPartnerId);
    }

    [Fact]
    public async Task The_info_message_carries_the_name_and_partner_id_the_registry_holds_and_a_cold_boot_loses_the_newest()
    {
        await using var rig = LoopbackRig.Start(o => o with { Name = "MX7_7" });
        var (channel, rapi) = await rig.ConnectRapiAsync();
        Assert.Equal("MX7_7", channel.Info.Name);
        Assert.Equal(0u, channel.Info.CurrentPartnerId);
        await ActiveSyncPartnerships.WriteSlotAsync(rapi, 2, 0xAAAA_0001, "office-pc");
        await ActiveSyncPartnerships.WriteSlotAsync(rapi, 1, 0xBBBB_0002, "depot-pc");

        Assert.Equal(1, rig.Device.ColdBoot()); // slot 1 was written last: the newest (P6)
        await LoopbackRig.WaitForAsync(() => !rig.Device.IsConnected, "the device to drop its connection");
        var again = await rig.ConnectAsync();

        Assert.Equal(0u, again.Info.CurrentPartnerId); // PCur pointed at the lost slot
        var rapi2 = await rig.OpenAsync(again);
        var partners = await ActiveSyncPartnerships.ReadAsync(rapi2);
        Assert.Equal(new[] { new ActiveSyncPartnerSlot(2, 0xAAAA_0001, "office-pc") }, partners.Slots);
        Assert.Equal(0, partners.CurrentSlot);
    }

    [Fact]
    public async Task Several_requests_are_in_flight_at_once_on_one_session()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, MaxRequestsInFlight = 4, ReadBlockSize = 4096 });
        rig.Device.Faults.ReplyDelayMs = 20;
        rig.Device.Faults.DelayIsLatency = true;
        var content = TestData.Bytes(3, 64 * 1024);
        rig.WriteFile(@"\My Documents\f.bin", content);
        var (_, rapi) = await rig.ConnectRapiAsync();

        Assert.Equal(content, await ReadAllAsync(rapi, @"\My Documents\f.bin", content.Length, rig.Options));
        Assert.True(rig.Counters["max-requests-in-flight"] >= 3, $"at most {rig.Counters["max-requests-in-flight"]} requests were in flight");
    }

    [Fact]
    public async Task One_request_at_a_time_when_the_session_allows_one()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, MaxRequestsInFlight = 1, ReadBlockSize = 4096 });
        rig.Device.Faults.ReplyDelayMs = 5;
        rig.Device.Faults.DelayIsLatency = true;
        rig.WriteFile(@"\My Documents\f.bin", TestData.Bytes(3, 32 * 1024));
        var (_, rapi) = await rig.ConnectRapiAsync();

        await using var reader = await DeviceFileReader.OpenAsync(rapi, @"\My Documents\f.bin", 32 * 1024, rig.Options);
        await reader.CopyToAsync(Stream.Null);

        Assert.True(rig.Counters["max-requests-in-flight"] <= 2);
    }

    [Fact]
    public async Task Several_RAPI_sessions_run_at_once()
    {
        await using var rig = LoopbackRig.Start();
        for (var i = 0; i < 3; i++)
        {
            rig.WriteFile($@"\My Documents\f{i}.bin", TestData.Bytes((ulong)i, 100_000 + i));
        }

        var channel = await rig.ConnectAsync();
        var sessions = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => rig.OpenAsync(channel)));
        var copies = await Task.WhenAll(sessions.Select((rapi, i) => ReadAllAsync(rapi, $@"\My Documents\f{i}.bin", 100_000 + i, rig.Options)));

        Assert.Equal(3, rig.Counters.RapiSessions);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(TestData.Bytes((ulong)i, 100_000 + i), copies[i]);
        }
    }

    [Fact]
    public async Task Short_reads_still_give_every_byte_in_order()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, MaxRequestsInFlight = 4, ReadBlockSize = 8192 });
        rig.Device.Faults.ShortReadMax = 1000;
        var content = TestData.Bytes(11, 50_001);
        rig.WriteFile(@"\My Documents\f.bin", content);
        var (_, rapi) = await rig.ConnectRapiAsync();

        await using var reader = await DeviceFileReader.OpenAsync(rapi, @"\My Documents\f.bin", content.Length, rig.Options);
        var copy = new MemoryStream();
        await reader.CopyToAsync(copy);

        Assert.Equal(content, copy.ToArray());
        Assert.True(reader.ReadRequests >= 51, $"{reader.ReadRequests} reads for 50,001 bytes in replies of 1,000");
    }

    internal static async Task<byte[]> ReadAllAsync(RapiClient rapi, string devicePath, long size, ActiveSyncOptions options)
    {
        await using var reader = await DeviceFileReader.OpenAsync(rapi, devicePath, size, options);
        var copy = new MemoryStream();
        await reader.CopyToAsync(copy);
        return copy.ToArray();
    }
}
