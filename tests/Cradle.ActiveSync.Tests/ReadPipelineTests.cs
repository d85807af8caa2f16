using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Walk;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// Reads and listings that keep a slow link full: files read on several RAPI sessions at once,
/// folders of one level listed at once, everything within bounds and byte-exact. Counted on the
/// emulated device (what it saw at once), never timed.
/// </summary>
public sealed class ReadPipelineTests
{
    [Fact]
    public async Task Small_files_are_read_on_several_RAPI_sessions_at_once_within_the_bounds_and_byte_exact()
    {
        // The reply delay is on the way back, so calls sent together are answered together and overlaps are seen.
        await using var rig = await HostRig.StartAsync(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(200), RapiSessions = 3, MaxRequestsInFlight = 4 });
        var device = rig.Device("MX7_P", "p");
        device.Faults.ReplyDelayMs = 15;
        device.Faults.DelayIsLatency = true;
        var written = new Dictionary<string, byte[]>();
        for (var i = 0; i < 36; i++)
        {
            var path = $@"My Documents\f{i % 3}\n{i:D2}.txt";
            written[path] = HostBackupTests.Write(device, path, TestData.Bytes((ulong)(100 + i), 500 + (i * 37)));
        }

        written[@"My Documents\big.bin"] = HostBackupTests.Write(device, @"My Documents\big.bin", TestData.Bytes(99, 600_000));

        Assert.Equal("connected", await rig.SyncAsync(device));

        var snapshot = Assert.Single(rig.Snapshots("MX7_P"));
        Assert.Equal(written.Count, snapshot.Files);
        var restored = await rig.RestoreAsync(snapshot);
        foreach (var (path, content) in written)
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine([restored, .. path.Split('\\')])));
        }

        var seen = device.Counters;
        Assert.Equal(3, seen.RapiSessions);
        Assert.Equal(written.Count, seen["files-opened"]);
        await LoopbackRig.WaitForAsync(() => seen.Open(0) == 0, "every file to be closed on the device");

        // Files overlap (the sequential reader had one open at a time), at most eight per session.
        Assert.InRange(seen["max-files-open"], 2, 3 * 8);

        // No session ever has more calls waiting than the host allows.
        Assert.InRange(seen["max-requests-in-flight"], 2, 4);
    }

    [Fact]
    public async Task An_unchanged_device_is_listed_a_level_at_a_time_with_listings_in_flight_together_and_reads_nothing()
    {
        await using var rig = await HostRig.StartAsync(options: new ActiveSyncOptions { KeepaliveInterval = TimeSpan.FromMilliseconds(200), RapiSessions = 1 });
        var device = rig.Device("MX7_Q", "q");
        for (var i = 0; i < 12; i++)
        {
            HostBackupTests.Write(device, $@"My Documents\d{i}\e{i % 2}\file.txt", TestData.Bytes((ulong)(200 + i), 300));
        }

        Assert.Equal("connected", await rig.SyncAsync(device));
        await rig.UnplugAsync(device);
        device.Faults.ReplyDelayMs = 15;
        device.Faults.DelayIsLatency = true;
        device.Counters.Reset();

        Assert.Equal("connected", await rig.SyncAsync(device));

        Assert.Equal(0, device.Counters.ReadFileCalls);
        Assert.NotNull(Assert.Single(rig.Snapshots("MX7_Q")).Verified);

        // \, My Documents, its 12 folders and their 12 subfolders: one listing each (the root once, for storage cards).
        Assert.Equal(1 + 1 + 12 + 12, device.Counters["CeFindAllFiles"]);

        // One session, and yet eight listings at a time on it (as many as it is lent for): the walk did not wait for each reply.
        Assert.Equal(1, device.Counters.RapiSessions);
        Assert.Equal(8, device.Counters["max-requests-in-flight"]);
    }

    [Fact]
    public async Task Listing_on_a_pool_gives_the_same_entries_in_the_same_order_as_the_walk()
    {
        await using var rig = LoopbackRig.Start();
        foreach (var path in new[] { @"\My Documents\b\z.txt", @"\My Documents\a\y\x.txt", @"\My Documents\a\w.txt", @"\My Documents\c.txt", @"\My Documents\a\y\v\u.txt" })
        {
            rig.WriteFile(path, TestData.Bytes((ulong)path.Length, 10));
        }

        var (channel, first) = await rig.ConnectRapiAsync();
        var second = await rig.OpenAsync(channel);
        var folder = new BackupFolder(@"\My Documents", BackupFolderKind.Documents);
        var walked = new List<DeviceFileEntry>();
        await foreach (var entry in new DeviceWalker(first).WalkAsync(folder))
        {
            walked.Add(entry);
        }

        var listed = await new DeviceWalker(first).ListAsync(new RapiSessionPool([first, second]), folder);

        Assert.Equal(walked.Select(e => e.DevicePath), listed.Select(e => e.DevicePath));
        Assert.Equal(walked, listed);
        Assert.Equal(2, rig.Counters.RapiSessions);
    }
}
