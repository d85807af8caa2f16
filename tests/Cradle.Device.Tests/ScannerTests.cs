using System.Diagnostics;
using System.Runtime.Versioning;
using Cradle.Store;
using Cradle.Tests;

namespace Cradle.Device.Tests;

public sealed class ScannerTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _data;

    public ScannerTests()
    {
        _data = Directory.CreateDirectory(_temp["device/Documents"]).FullName;
    }

    public void Dispose() => _temp.Dispose();

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_data, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private ScanResult Scan(string label = "docs") => Scanner.Scan([new DataFolder(label, _data)], CancellationToken.None);

    [Fact]
    public void Finds_files_and_folders_in_a_stable_order_labelled_with_the_folder_label()
    {
        Write("b.txt", "bb");
        Write("A.txt", "a");
        Write("a/z.txt", "zzz");
        Write("c.txt", "");
        Directory.CreateDirectory(Path.Combine(_data, "a", "y"));

        var result = Scan();

        Assert.Empty(result.Skipped);
        Assert.Equal(
            new[] { "docs", "docs/A.txt", "docs/a", "docs/a/y", "docs/a/z.txt", "docs/b.txt", "docs/c.txt" },
            result.Entries.Select(e => e.Path));
        Assert.Equal(
            new[] { EntryKind.Directory, EntryKind.File, EntryKind.Directory, EntryKind.Directory, EntryKind.File, EntryKind.File, EntryKind.File },
            result.Entries.Select(e => e.Kind));
        Assert.Equal(new long[] { 0, 1, 0, 0, 3, 2, 0 }, result.Entries.Select(e => e.Size));
        Assert.Equal(4, result.Files);
        Assert.Equal(6, result.Bytes);
        Assert.Equal(Path.Combine(_data, "a", "z.txt"), result.Entries[4].FullPath);
        Assert.Equal(result.Entries.Select(e => e.Path), Scan().Entries.Select(e => e.Path));
    }

    [Fact]
    public void Every_folder_gets_its_own_label()
    {
        Write("one.txt", "1");
        var photos = Directory.CreateDirectory(_temp["device/Photos"]).FullName;
        File.WriteAllText(Path.Combine(photos, "two.jpg"), "2");

        var result = Scanner.Scan([new DataFolder("docs", _data), new DataFolder("pics", photos)], CancellationToken.None);

        Assert.Equal(new[] { "docs", "docs/one.txt", "pics", "pics/two.jpg" }, result.Entries.Select(e => e.Path));
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void Records_modification_time_and_mode()
    {
        Write("f.txt", "x");
        var path = Path.Combine(_data, "f.txt");
        var mtime = new DateTime(2020, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(path, mtime);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var entry = Scan().Entries.Single(e => e.Path == "docs/f.txt");

        Assert.Equal(TreeEntry.ToUnixNs(mtime), entry.MtimeUnixNs);
        Assert.Equal(0x1A0u, entry.Mode); // 0640
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void Reports_the_inode_so_a_replaced_file_is_read_again()
    {
        Write("f.txt", "same");
        Write("g.txt", "same");
        var first = Scan().Entries.Single(e => e.Path == "docs/f.txt");
        var other = Scan().Entries.Single(e => e.Path == "docs/g.txt");

        var replacement = Path.Combine(_data, "..", "replacement");
        File.WriteAllText(replacement, "same");
        File.SetLastWriteTimeUtc(replacement, File.GetLastWriteTimeUtc(Path.Combine(_data, "f.txt")));
        File.Move(replacement, Path.Combine(_data, "f.txt"), overwrite: true);
        var replaced = Scan().Entries.Single(e => e.Path == "docs/f.txt");

        Assert.NotEqual(0UL, first.Inode);
        Assert.NotEqual(first.Inode, other.Inode);
        Assert.Equal(other.Inode, Scan().Entries.Single(e => e.Path == "docs/g.txt").Inode);
        Assert.Equal((first.Size, first.MtimeUnixNs), (replaced.Size, replaced.MtimeUnixNs));
        Assert.NotEqual(first.Inode, replaced.Inode);
    }

    [Fact]
    public void Skips_a_symlink_pointing_outside_and_does_not_follow_it()
    {
        var outside = Directory.CreateDirectory(_temp["outside"]).FullName;
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "do not back up");
        Write("real.txt", "r");
        Directory.CreateSymbolicLink(Path.Combine(_data, "escape"), outside);
        File.CreateSymbolicLink(Path.Combine(_data, "secret-link.txt"), Path.Combine(outside, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_data, "dangling.txt"), Path.Combine(outside, "gone.txt"));

        var result = Scan();

        Assert.Equal(new[] { "docs", "docs/real.txt" }, result.Entries.Select(e => e.Path));
        Assert.DoesNotContain(result.Entries, e => e.FullPath.StartsWith(outside, StringComparison.Ordinal));
        Assert.Equal(3, result.Skipped.Count);
        Assert.All(result.Skipped, s => Assert.Contains("symbolic link", s, StringComparison.Ordinal));
        Assert.Contains(result.Skipped, s => s.Contains(Path.Combine(_data, "escape"), StringComparison.Ordinal));
    }

    [Fact]
    public void Skips_a_symlink_even_when_it_points_inside()
    {
        Write("sub/file.txt", "f");
        Directory.CreateSymbolicLink(Path.Combine(_data, "loop"), _data);

        var result = Scan();

        Assert.Equal(new[] { "docs", "docs/sub", "docs/sub/file.txt" }, result.Entries.Select(e => e.Path));
        Assert.Single(result.Skipped);
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void Skips_names_that_cannot_be_stored_safely()
    {
        Write("ok.txt", "ok");
        Write("back\\slash.txt", "b");
        Write("bell\u0007.txt", "c");

        var result = Scan();

        Assert.Equal(new[] { "docs", "docs/ok.txt" }, result.Entries.Select(e => e.Path));
        Assert.Contains(result.Skipped, s => s.Contains("backslash", StringComparison.Ordinal));
        Assert.Contains(result.Skipped, s => s.Contains("control character", StringComparison.Ordinal));
    }

    [LinuxFact]
    [SupportedOSPlatform("linux")]
    public void Skips_a_fifo_instead_of_blocking_on_it()
    {
        Write("ok.txt", "ok");
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(_data, "pipe")))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var result = Scan();

        Assert.Equal(new[] { "docs", "docs/ok.txt" }, result.Entries.Select(e => e.Path));
        Assert.Contains(result.Skipped, s => s.Contains("not a regular file", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_data_folder_is_reported_not_thrown()
    {
        var missing = _temp["device/Gone"];

        var result = Scanner.Scan([new DataFolder("gone", missing), new DataFolder("docs", _data)], CancellationToken.None);

        Assert.Equal(new[] { "docs" }, result.Entries.Select(e => e.Path));
        Assert.Contains(missing, Assert.Single(result.Skipped), StringComparison.Ordinal);
    }

    [Fact]
    public void Scanning_honours_cancellation()
    {
        Write("a/b.txt", "x");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => Scanner.Scan([new DataFolder("docs", _data)], cancel.Token));
    }
}
