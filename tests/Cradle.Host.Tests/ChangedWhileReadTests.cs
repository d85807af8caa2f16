using Cradle.Device;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>
/// A file written in place while the device reads it, at the same length (as a copy into a
/// preallocated file is): the device reads it again; one that never holds still is never stored
/// half-written: its earlier version is kept and the snapshot is partial.
/// </summary>
public sealed class ChangedWhileReadTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly TempFolder _temp = new();

    [Fact]
    public async Task A_file_rewritten_at_the_same_length_while_it_is_read_is_read_again_at_once_and_the_backup_is_whole()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "depot");
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        var video = Path.Combine(data, "video.bin");
        File.WriteAllBytes(video, TestData.Bytes(1, 8 * MiB));
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-BUSY", [data]);

        // Batches of 1 MiB: the report after the first batch is sent comes while the reader is at
        // most two batches into the file, and it holds the reader back until it returns.
        var observer = new RewriteMidRead(video, TestData.Bytes(2, 8 * MiB), times: 1);
        var options = new DeviceOptions { BatchBytes = MiB, ChangedFileRetryDelay = TimeSpan.FromMilliseconds(10) };
        var first = await host.BackUpAsync(state, options, observer);

        Assert.Equal(1, observer.Rewrites);
        Assert.Contains(observer.Warnings, w => w.Contains("video.bin changed while it was read: reading it again", StringComparison.Ordinal));
        // Read again once it held still: the snapshot has the new content, whole.
        Assert.False(first.Partial);
        Assert.Equal(TestData.Bytes(2, 8 * MiB), await ReadBackAsync(host, first.SnapshotId, "data/video.bin"));

        // Unchanged since, and read whole last time: the files cache is trusted now.
        var again = await host.BackUpAsync(state, options);
        Assert.Equal(0, again.FilesRead);
        Assert.True(again.Unchanged);
    }

    [Fact]
    public async Task A_file_that_changes_at_every_read_keeps_its_earlier_version_and_the_snapshot_is_partial()
    {
        await using var host = await LoopbackHost.StartAsync(_temp["host"], "depot");
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        var video = Path.Combine(data, "video.bin");
        File.WriteAllBytes(video, TestData.Bytes(1, 8 * MiB));
        File.WriteAllText(Path.Combine(data, "calm.txt"), "calm");
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-BUSY", [data]);
        var options = new DeviceOptions { BatchBytes = MiB, ChangedFileRetries = 2, ChangedFileRetryDelay = TimeSpan.FromMilliseconds(10) };
        var before = await host.BackUpAsync(state, options);

        // A new version that is rewritten while each of the three reads is under way.
        File.WriteAllBytes(video, TestData.Bytes(3, 8 * MiB));
        File.SetLastWriteTimeUtc(video, DateTime.UtcNow.AddMinutes(1));
        var observer = new RewriteMidRead(video, TestData.Bytes(4, 8 * MiB), times: int.MaxValue);
        var busy = await host.BackUpAsync(state, options, observer);

        Assert.True(observer.Rewrites >= 3, $"rewritten {observer.Rewrites} times");
        Assert.True(busy.Partial);
        var problem = Assert.Single(busy.Problems);
        Assert.Equal("data/video.bin", problem.Path);
        Assert.Contains("changed while it was read, 3 times", problem.Reason, StringComparison.Ordinal);
        Assert.Equal(1, busy.CarriedForward);
        Assert.NotEqual(before.SnapshotId, busy.SnapshotId);
        // The version of the backup before, whole, not a torn read of any of the three.
        Assert.Equal(TestData.Bytes(1, 8 * MiB), await ReadBackAsync(host, busy.SnapshotId, "data/video.bin"));
        using var catalog = host.Store.OpenCatalog();
        var recorded = Assert.Single(catalog.ListProblems(busy.SnapshotId));
        Assert.Equal(("data/video.bin", 1L, before.SnapshotId), (recorded.Path, recorded.CarriedForward, recorded.FromSnapshot));
        Assert.True(catalog.GetSnapshot(busy.SnapshotId)!.Partial);
    }

    private static async Task<byte[]> ReadBackAsync(HostService host, long snapshot, string path)
    {
        using var reader = host.Store.OpenReader();
        var info = reader.Catalog.GetSnapshot(snapshot)!;
        var entry = (await reader.LoadTreeAsync(info, CancellationToken.None)).Single(e => e.Path == path);
        using var content = new MemoryStream();
        foreach (var id in entry.Chunks)
        {
            var location = reader.Locate(id);
            var buffer = new byte[location.Entry.RawLength];
            await reader.ReadChunkAsync(location, buffer, CancellationToken.None);
            await content.WriteAsync(buffer);
        }

        return content.ToArray();
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Rewrites the file in place at the same length at each report mid-upload, up to
    /// <paramref name="times"/> times. Reports come after each 1 MiB batch while the reader is
    /// at most two batches further: every read of the 8 MiB file sees a rewrite under way.
    /// </summary>
    private sealed class RewriteMidRead(string path, byte[] contents, int times) : ISessionObserver
    {
        public int Rewrites { get; private set; }

        public List<string> Warnings { get; } = [];

        public void Progress(BackupProgress progress)
        {
            if (Rewrites >= times || progress.Phase != "uploading" || progress.BytesDone == 0)
            {
                return;
            }

            var mtime = File.GetLastWriteTimeUtc(path);
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                stream.Write(contents);
            }

            // The same length: only the modification time, read again after the read, tells.
            File.SetLastWriteTimeUtc(path, mtime.AddSeconds(1));
            Rewrites++;
        }

        public void Warning(string message)
        {
            lock (Warnings)
            {
                Warnings.Add(message);
            }
        }
    }
}
