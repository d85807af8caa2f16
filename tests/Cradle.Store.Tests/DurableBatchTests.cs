using Cradle.Content;
namespace Cradle.Store.Tests;

/// <summary>
/// Restored files made durable a batch at a time (the device's restore): nothing gets its real
/// name before its bytes were synced, and nothing is reported restored before its name was.
/// </summary>
public sealed class DurableBatchTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cradle-durable-" + Guid.NewGuid().ToString("N"));

    public DurableBatchTests() => Directory.CreateDirectory(Path.Combine(_folder, "sub"));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Bytes_are_synced_before_any_file_takes_its_name_and_names_before_any_file_counts_as_restored()
    {
        var syncs = new List<(string[] Folders, string[] Files, string[] NamedThen)>();
        var paths = new[] { Path.Combine(_folder, "a.txt"), Path.Combine(_folder, "sub", "b.txt"), Path.Combine(_folder, "sub", "c.txt") };
        var batch = new DurableBatch((folders, files) => syncs.Add(([.. folders], [.. files], [.. paths.Where(File.Exists)])));
        var mtime = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        foreach (var path in paths)
        {
            var temp = RestoredFile.TempPathFor(path);
            File.WriteAllText(temp, Path.GetFileName(path));
            batch.Add(temp, path, 0b110_100_100, mtime, 5, "label/" + Path.GetFileName(path));
        }

        Assert.All(paths, p => Assert.False(File.Exists(p)));
        var committed = batch.Commit();

        Assert.Equal(2, syncs.Count);
        // The first sync sees the temporary files and no real name yet: a power cut before it
        // leaves only temporary files, which the next restore removes.
        Assert.Empty(syncs[0].NamedThen);
        Assert.Equal(3, syncs[0].Files.Length);
        Assert.All(syncs[0].Files, f => Assert.True(RestoredFile.IsTempName(Path.GetFileName(f))));
        Assert.Equal([_folder, Path.Combine(_folder, "sub")], syncs[0].Folders);
        // The second sync makes the names durable; every file had its name by then.
        Assert.Equal(paths, syncs[1].NamedThen);
        Assert.Equal(["label/a.txt", "label/b.txt", "label/c.txt"], committed.Select(c => c.Label));
        Assert.All(committed, c => Assert.Null(c.Failure));
        Assert.All(paths, p => Assert.Equal(mtime, File.GetLastWriteTimeUtc(p)));
        Assert.Equal("b.txt", File.ReadAllText(paths[1]));
        Assert.Empty(Directory.EnumerateFiles(_folder, ".cradle-*", SearchOption.AllDirectories));
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void A_failed_sync_of_the_bytes_restores_nothing_and_leaves_the_old_file_and_no_temporary_file()
    {
        var path = Path.Combine(_folder, "kept.txt");
        File.WriteAllText(path, "the device's own");
        var batch = new DurableBatch((_, _) => throw new IOException("EIO"));
        var temp = RestoredFile.TempPathFor(path);
        File.WriteAllText(temp, "from the snapshot");
        batch.Add(temp, path, 0b110_100_100, DateTime.UtcNow, 17, "kept.txt");

        var committed = Assert.Single(batch.Commit());

        Assert.Contains("could not make it durable: EIO", committed.Failure, StringComparison.Ordinal);
        Assert.Equal("the device's own", File.ReadAllText(path));
        Assert.False(File.Exists(temp));
    }

    [Fact]
    public void A_batch_is_full_at_its_file_or_byte_limit()
    {
        var batch = new DurableBatch((_, _) => { });
        batch.Add("t", "p", 0, DateTime.UtcNow, DurableBatch.MaxBytes - 1, "p");
        Assert.False(batch.IsFull);
        batch.Add("t2", "p2", 0, DateTime.UtcNow, 1, "p2");
        Assert.True(batch.IsFull);
        batch.Abandon();
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void A_batch_is_full_once_open_for_its_longest_time_so_a_slow_link_loses_little_to_a_cut()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero));
        var batch = new DurableBatch((_, _) => { }, clock);
        clock.Now += TimeSpan.FromMinutes(5); // an empty batch is not open
        batch.Add("t", "p", 0, DateTime.UtcNow, 100, "p");
        Assert.False(batch.IsFull);
        clock.Now += DurableBatch.MaxAge;
        Assert.True(batch.IsFull);
        batch.Commit();
        Assert.False(batch.IsFull);
    }

    [Fact]
    public void The_real_sync_makes_a_batch_durable_and_placed()
    {
        var path = Path.Combine(_folder, "sub", "real.bin");
        var temp = RestoredFile.TempPathFor(path);
        File.WriteAllBytes(temp, [1, 2, 3]);
        var batch = new DurableBatch();
        batch.Add(temp, path, 0b110_000_000, DateTime.UtcNow, 3, "real.bin");

        Assert.Null(Assert.Single(batch.Commit()).Failure);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
    }
}
