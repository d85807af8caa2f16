using Cradle.Device;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>
/// A file written in place while the device reads it, at the same length (as a copy into a
/// preallocated file is): the device says so, and the next backup reads it again rather than
/// trusting the files cache with what it read half-way through the write.
/// </summary>
public sealed class ChangedWhileReadTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly TempFolder _temp = new();

    [Fact]
    public async Task A_file_rewritten_at_the_same_length_while_it_is_read_is_reported_and_read_again_next_time()
    {
        await using var host = LoopbackHost.Start(_temp["host"], "depot");
        var data = _temp["data"];
        Directory.CreateDirectory(data);
        var video = Path.Combine(data, "video.bin");
        File.WriteAllBytes(video, TestData.Bytes(1, 8 * MiB));
        var state = new DeviceState(_temp["state"]);
        state.Initialize("MX7-BUSY", [data]);

        // Batches of 1 MiB: the report after the first batch is sent comes while the reader is at
        // most two batches into the file, and it holds the reader back until it returns.
        var observer = new RewriteMidRead(video, TestData.Bytes(2, 8 * MiB));
        var options = new DeviceOptions { BatchBytes = MiB };
        await host.BackUpAsync(state, options, observer);

        Assert.True(observer.Rewrote, "the file was never rewritten while it was read");
        Assert.Contains(observer.Warnings, w => w.Contains("video.bin changed while it was read", StringComparison.Ordinal));

        // Unchanged since: the next backup reads it again all the same, and then trusts it.
        var again = await host.BackUpAsync(state, options);
        Assert.Equal(1, again.FilesRead);
        var third = await host.BackUpAsync(state, options);
        Assert.Equal(0, third.FilesRead);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Rewrites the file in place at the same length, at the first report mid-upload.</summary>
    private sealed class RewriteMidRead(string path, byte[] contents) : ISessionObserver
    {
        public bool Rewrote { get; private set; }

        public List<string> Warnings { get; } = [];

        public void Progress(BackupProgress progress)
        {
            if (Rewrote || progress.Phase != "uploading" || progress.BytesDone == 0 || progress.BytesDone >= progress.BytesTotal)
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
            Rewrote = true;
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
