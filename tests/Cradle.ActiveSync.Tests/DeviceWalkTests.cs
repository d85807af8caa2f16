using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Walk;

namespace Cradle.ActiveSync.Tests;

/// <summary>The host-independent walk a backup runs: which folders, what entries, which files are read.</summary>
public sealed class DeviceWalkTests
{
    [Fact]
    public async Task The_documents_folder_every_storage_card_and_extra_folders_are_walked_once()
    {
        await using var rig = LoopbackRig.Start(o => o with { StorageCards = ["Storage Card", "SD Card"] });
        foreach (var folder in new[] { @"\Storage Card", @"\SD Card", @"\Windows", @"\Application Data\Scans", @"\My Documents\Orders" })
        {
            Directory.CreateDirectory(rig.HostPath(folder));
        }

        var (_, rapi) = await rig.ConnectRapiAsync();
        var found = await BackupFolderDiscovery.DiscoverAsync(rapi, [@"\Application Data\Scans", "/My Documents/Orders", @"\Missing"]);

        Assert.Equal(new[]
        {
            new BackupFolder(@"\My Documents", BackupFolderKind.Documents),
            new BackupFolder(@"\SD Card", BackupFolderKind.StorageCard),
            new BackupFolder(@"\Storage Card", BackupFolderKind.StorageCard),
            new BackupFolder(@"\Application Data\Scans", BackupFolderKind.Extra),
        }, found.Folders);
        Assert.Equal(new[] { @"\Missing" }, found.Missing);
        Assert.Equal("Application Data/Scans", found.Folders[^1].SnapshotPath);
    }

    [Fact]
    public async Task A_localized_documents_folder_is_asked_of_the_device()
    {
        await using var rig = LoopbackRig.Start(o => o with { DocumentsFolder = @"\Eigene Dateien" });
        Directory.CreateDirectory(rig.HostPath(@"\Eigene Dateien"));
        var (_, rapi) = await rig.ConnectRapiAsync();

        var found = await BackupFolderDiscovery.DiscoverAsync(rapi, []);

        Assert.Equal(@"\Eigene Dateien", Assert.Single(found.Folders).DevicePath);
    }

    [Fact]
    public async Task An_extra_folder_holding_the_others_replaces_them()
    {
        await using var rig = LoopbackRig.Start(o => o with { StorageCards = ["Storage Card"] });
        Directory.CreateDirectory(rig.HostPath(@"\Storage Card"));
        var (_, rapi) = await rig.ConnectRapiAsync();

        var found = await BackupFolderDiscovery.DiscoverAsync(rapi, [@"\"]);

        Assert.Equal(new[] { new BackupFolder(@"\", BackupFolderKind.Extra) }, found.Folders);
    }

    [Fact]
    public async Task The_walk_lists_every_file_and_folder_with_its_snapshot_path_size_and_time()
    {
        await using var rig = LoopbackRig.Start(o => o with { OsMajor = 4, OsMinor = 20 });
        var when = new DateTime(2021, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        rig.WriteFile(@"\My Documents\a.txt", TestData.Text(10), when);
        rig.WriteFile(@"\My Documents\Orders\2024\o-1.csv", TestData.Text(20), when);
        rig.WriteFile(@"\My Documents\Orders\o-0.csv", TestData.Text(30), when);
        var (_, rapi) = await rig.ConnectRapiAsync();
        var walker = new DeviceWalker(rapi);

        var entries = new List<DeviceFileEntry>();
        await foreach (var entry in walker.WalkAsync(new BackupFolder(@"\My Documents", BackupFolderKind.Documents)))
        {
            entries.Add(entry);
        }

        // A folder's entries come together (one listing), then its subfolders' entries, depth first.
        Assert.Equal(new[] { "My Documents/a.txt", "My Documents/Orders", "My Documents/Orders/2024", "My Documents/Orders/o-0.csv", "My Documents/Orders/2024/o-1.csv" },
            entries.Select(e => e.SnapshotPath));
        var file = entries.Single(e => e.SnapshotPath == "My Documents/Orders/2024/o-1.csv");
        Assert.Equal(@"\My Documents\Orders\2024\o-1.csv", file.DevicePath);
        Assert.Equal(20, file.Size);
        Assert.Equal(new DateTimeOffset(when).ToUnixTimeMilliseconds() * 1_000_000, file.LastWriteUnixNanoseconds);
        Assert.True(entries.Single(e => e.SnapshotPath == "My Documents/Orders").IsDirectory);
        Assert.Equal(3, walker.Listings);
        Assert.Equal(0, rig.Counters.ReadFileCalls);
    }

    [Fact]
    public async Task An_unchanged_rerun_reads_no_file_contents_and_a_changed_file_is_read_alone()
    {
        await using var rig = LoopbackRig.Start();
        for (var i = 0; i < 20; i++)
        {
            rig.WriteFile($@"\My Documents\f{i:D2}.bin", TestData.Bytes((ulong)i, 1000 + (i * 100)));
        }

        var (_, rapi) = await rig.ConnectRapiAsync();
        var folder = new BackupFolder(@"\My Documents", BackupFolderKind.Documents);

        var first = await BackupAsync(rapi, folder, new Dictionary<string, (long, long)>(), rig.Options);
        var readsAfterFirst = rig.Counters.ReadFileCalls;
        var opensAfterFirst = rig.Counters["files-opened"];
        Assert.Equal(20, first.Read.Count);
        Assert.True(readsAfterFirst >= 20);

        var second = await BackupAsync(rapi, folder, first.Index, rig.Options);
        Assert.Empty(second.Read);
        Assert.Equal(readsAfterFirst, rig.Counters.ReadFileCalls);
        Assert.Equal(opensAfterFirst, rig.Counters["files-opened"]);

        rig.WriteFile(@"\My Documents\f07.bin", TestData.Bytes(99, 1700), new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var third = await BackupAsync(rapi, folder, second.Index, rig.Options);
        Assert.Equal(new[] { "My Documents/f07.bin" }, third.Read);
        Assert.Equal(TestData.Bytes(99, 1700), third.Contents["My Documents/f07.bin"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(14_337)]
    public async Task The_pipelined_reader_gives_every_size_exactly(int size)
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, ReadBlockSize = 4096, MaxRequestsInFlight = 3 });
        var content = TestData.Bytes((ulong)size, size);
        rig.WriteFile(@"\My Documents\f.bin", content);
        var (_, rapi) = await rig.ConnectRapiAsync();

        await using var reader = await DeviceFileReader.OpenAsync(rapi, @"\My Documents\f.bin", size, rig.Options);
        var copy = new MemoryStream();
        await reader.CopyToAsync(copy, 1000);

        Assert.Equal(content, copy.ToArray());
        Assert.Equal(size, reader.Position);
        // A read past the listed size finds the end; no more than the window beyond it is asked.
        Assert.InRange(reader.ReadRequests, (size / 4096) + 1, (size / 4096) + 1 + 3);
    }

    [Fact]
    public async Task A_file_that_grew_since_the_listing_is_read_to_its_end()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, ReadBlockSize = 4096 });
        var content = TestData.Bytes(1, 40_000);
        rig.WriteFile(@"\My Documents\f.bin", content);
        var (_, rapi) = await rig.ConnectRapiAsync();

        Assert.Equal(content, await RapiClientTests.ReadAllAsync(rapi, @"\My Documents\f.bin", size: 10, rig.Options));
    }

    [Fact]
    public async Task A_hostile_name_in_a_listing_stops_the_walk_with_a_protocol_error()
    {
        await using var rig = LoopbackRig.Start();
        rig.Device.Faults.HostileNames = [@"..\..\etc"];
        var (_, rapi) = await rig.ConnectRapiAsync();
        var walker = new DeviceWalker(rapi);

        var e = await Assert.ThrowsAsync<ActiveSyncProtocolException>(async () =>
        {
            await foreach (var _ in walker.WalkAsync(new BackupFolder(@"\My Documents", BackupFolderKind.Documents)))
            {
            }
        });

        Assert.Contains("separator", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tree_deeper_than_the_cap_is_refused()
    {
        await using var rig = LoopbackRig.Start(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.Zero, MaxFolderDepth = 3 });
        Directory.CreateDirectory(rig.HostPath(@"\My Documents\1\2\3\4"));
        var (_, rapi) = await rig.ConnectRapiAsync();

        var e = await Assert.ThrowsAsync<ActiveSyncProtocolException>(async () =>
        {
            await foreach (var _ in new DeviceWalker(rapi, rig.Options).WalkAsync(new BackupFolder(@"\My Documents", BackupFolderKind.Documents)))
            {
            }
        });

        Assert.Contains("deeper than 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(@"\My Documents\a.txt", "My Documents/a.txt")]
    [InlineData(@"\Storage Card\Scans\x y.csv", "Storage Card/Scans/x y.csv")]
    public void Device_paths_map_to_snapshot_paths_and_back(string device, string snapshot)
    {
        Assert.Equal(snapshot, CePath.ToSnapshotPath(device));
        Assert.Equal(device, CePath.FromSnapshotPath(snapshot));
    }

    [Theory]
    [InlineData(@"My Documents")]
    [InlineData(@"C:\Windows")]
    [InlineData(@"\My Documents\..\Windows")]
    [InlineData("\\a\0b")]
    public void An_operator_folder_that_is_not_an_absolute_CE_path_is_refused(string folder) =>
        Assert.Throws<ArgumentException>(() => CePath.NormalizeFolder(folder));

    [Fact]
    public void File_times_convert_to_the_stores_nanoseconds_exactly_and_nonsense_is_clamped()
    {
        var when = new DateTime(2024, 2, 29, 23, 59, 58, DateTimeKind.Utc).AddTicks(1234567);
        var ns = DeviceFileEntry.FileTimeToUnixNanoseconds(when.ToFileTimeUtc());
        Assert.Equal((when - DateTime.UnixEpoch).Ticks * 100, ns);
        Assert.Equal(when.ToFileTimeUtc(), DeviceFileEntry.UnixNanosecondsToFileTime(ns));
        Assert.Equal(long.MaxValue / 100 * 100, DeviceFileEntry.FileTimeToUnixNanoseconds(long.MaxValue));
    }

    private static async Task<(List<string> Read, Dictionary<string, (long, long)> Index, Dictionary<string, byte[]> Contents)> BackupAsync(
        RapiClient rapi, BackupFolder folder, IReadOnlyDictionary<string, (long Size, long Time)> previous, ActiveSyncOptions options)
    {
        var read = new List<string>();
        var index = new Dictionary<string, (long, long)>();
        var contents = new Dictionary<string, byte[]>();
        await foreach (var entry in new DeviceWalker(rapi, options).WalkAsync(folder))
        {
            if (entry.IsDirectory)
            {
                continue;
            }

            index[entry.SnapshotPath] = (entry.Size, entry.LastWriteUnixNanoseconds);
            if (previous.TryGetValue(entry.SnapshotPath, out var before) && DeviceChanges.IsUnchanged(entry, before.Size, before.Time))
            {
                continue;
            }

            contents[entry.SnapshotPath] = await RapiClientTests.ReadAllAsync(rapi, entry.DevicePath, entry.Size, options);
            read.Add(entry.SnapshotPath);
        }

        return (read, index, contents);
    }
}
