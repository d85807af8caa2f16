using System.Globalization;
using System.Text.Json;
using Cradle.LineRelay;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Restores that are cut (the restoring process killed) and run again: no partial file under a
/// real name, the rerun finishes the rest, leaves the files already whole and removes the
/// temporary files of the cut run. On the host (<c>host restore</c> into a folder) and on the
/// device (<c>device restore</c>, over a paced serial line, as a handheld restores).
/// </summary>
public sealed class RestoreResumeTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task A_killed_host_restore_resumes_keeps_whole_files_and_removes_its_temporary_files()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "cut");
        Directory.CreateDirectory(device.DataFolder);
        var files = new Dictionary<string, byte[]>();
        for (var i = 0; i < 96; i++)
        {
            var name = $"scan-{i:D3}.bin";
            files[name] = TestData.Bytes((ulong)(1000 + i), 2 * 1024 * 1024);
            await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, name), files[name]);
        }

        Assert.Equal(0, (await device.InitAsync("MX7-CUT")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        var target = Path.Combine(_folder.Path, "restored");
        var label = Path.GetFileName(device.DataFolder);

        // Killed once a few files are in place: a real name holds the whole file or nothing.
        var before = await CutAsync(CradleProcess.Start("host", "restore", "MX7-CUT", "--to", target, "--data", host.Data), target, 4, files);
        var inodes = before.ToDictionary(p => p, Inode);

        // Anything else in the folder: refused (exit 2) without --overwrite, and nothing written.
        var other = Path.Combine(_folder.Path, "other");
        Directory.CreateDirectory(other);
        await File.WriteAllTextAsync(Path.Combine(other, "notes.txt"), "mine");
        var refused = await host.RunAsync("host", "restore", "MX7-CUT", "--to", other);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("is not empty", refused.Stderr);
        Assert.Contains("--overwrite", refused.Stderr);
        Assert.Single(Directory.EnumerateFileSystemEntries(other));

        // A dry run of the rerun says what it would do and writes nothing.
        var dry = await host.RunAsync("host", "restore", "MX7-CUT", "--to", target, "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains($"would write {files.Count - before.Count} files", dry.Stdout);
        Assert.Contains($"{before.Count} files", dry.Stdout);
        Assert.Equal(before.Count, RealFiles(target).Count);

        // The rerun, without --overwrite: the folder holds only the cut restore of this snapshot.
        var again = await host.RunAsync("host", "restore", "MX7-CUT", "--to", target);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("finishing a restore that was cut", again.Stdout);
        Assert.Contains($"{before.Count} files", again.Stdout);
        Assert.Empty(TempFiles(target));
        Assert.False(File.Exists(Path.Combine(target, ".cradle-restore")), "the restore's marker outlived it");
        foreach (var (path, inode) in inodes)
        {
            Assert.True(Inode(path) == inode, $"{path} was whole and written again");
        }

        Assert.Empty(Content.TreeComparer.Compare(device.DataFolder, Path.Combine(target, label)));

        // And --overwrite writes into a folder that holds other things, leaving them be.
        var over = await host.RunAsync("host", "restore", "MX7-CUT", "--to", other, "--overwrite");
        Assert.True(over.ExitCode == 0, over.ToString());
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(other, "notes.txt")));
        Assert.Empty(Content.TreeComparer.Compare(device.DataFolder, Path.Combine(other, label)));
    }

    [Fact]
    public async Task A_killed_device_restore_resumes_and_sends_only_the_files_not_yet_whole()
    {
        // A handheld restoring over its cable: a paced serial line, so the kill falls mid-way.
        const int Baud = 921600;
        using var relay = SerialLineRelay.Start(new LineRelayOptions(LineBaud: Baud));
        await using var host = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host"), "depot", autoApprove: true, ["--serial", $"{relay.HostPort}@{Baud}"]);
        var device = new TestDevice(_folder.Path, "again");
        Directory.CreateDirectory(device.DataFolder);
        var files = new Dictionary<string, byte[]>();
        for (var i = 0; i < 20; i++)
        {
            var name = $"form-{i:D2}.bin";
            files[name] = TestData.Bytes((ulong)(2000 + i), 96 * 1024);
            await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, name), files[name]);
        }

        Assert.Equal(0, (await device.InitAsync("MX7-AGAIN")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode); // over the network: quick
        var original = Path.Combine(_folder.Path, "original");
        Directory.Move(device.DataFolder, original);
        Directory.CreateDirectory(device.DataFolder);
        var port = new[] { "--serial", relay.DevicePort, "--baud", Baud.ToString(CultureInfo.InvariantCulture) };

        var before = await CutAsync(CradleProcess.Start(["device", "restore", .. port, "--state", device.State]), device.DataFolder, 6, files);
        var inodes = before.ToDictionary(p => p, Inode);

        var sentBefore = relay.Stats.HostToDevice.BytesForwarded;
        var again = await CradleProcess.RunAsync(["device", "restore", .. port, "--json", "--state", device.State]);
        Assert.True(again.ExitCode == 0, again.ToString());
        var outcome = JsonDocument.Parse(again.Stdout).RootElement;
        var label = Path.GetFileName(device.DataFolder);
        var skipped = outcome.GetProperty("skipped").EnumerateArray().Where(s => s.GetProperty("reason").GetString()!.StartsWith("already whole", StringComparison.Ordinal)).Select(s => s.GetProperty("path").GetString()!).ToHashSet();
        Assert.Equal(before.Select(p => $"{label}/{Path.GetFileName(p)}").ToHashSet(), skipped);
        Assert.Equal(files.Count - before.Count, outcome.GetProperty("restored").GetArrayLength());

        // Only the files not yet whole crossed the line again (96 KiB each, a little for framing).
        var resent = relay.Stats.HostToDevice.BytesForwarded - sentBefore;
        Assert.True(resent < (files.Count - before.Count) * 96 * 1024 * 1.2, $"the rerun carried {resent} bytes for {files.Count - before.Count} files of 96 KiB");
        Assert.Empty(TempFiles(device.DataFolder));
        foreach (var (path, inode) in inodes)
        {
            Assert.True(Inode(path) == inode, $"{path} was whole and written again");
        }

        Assert.Empty(Content.TreeComparer.Compare(original, device.DataFolder));
    }

    /// <summary>
    /// SIGKILLs the restore once <paramref name="count"/> files are under their real names in
    /// <paramref name="folder"/>; checks that each file there is whole, and that a temporary file
    /// of the cut run is left for the rerun to remove (one is put there when the kill fell
    /// between two files). Returns the files found whole.
    /// </summary>
    private static async Task<List<string>> CutAsync(CradleProcess restore, string folder, int count, Dictionary<string, byte[]> files)
    {
        await using (restore)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (RealFiles(folder).Count < count && !restore.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            restore.Kill();
            Assert.NotEqual(0, await restore.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        }

        var found = RealFiles(folder);
        Assert.InRange(found.Count, 1, files.Count - 1);
        foreach (var path in found)
        {
            var onDisk = await File.ReadAllBytesAsync(path);
            Assert.True(files[Path.GetFileName(path)].SequenceEqual(onDisk), $"{path} is under its real name but not whole");
        }

        if (TempFiles(folder).Count == 0)
        {
            await File.WriteAllBytesAsync(Path.Combine(Path.GetDirectoryName(found[0])!, $".cradle-restore-{Guid.NewGuid():N}.tmp"), new byte[1000]);
        }

        return found;
    }

    private static List<string> RealFiles(string folder) =>
        Directory.Exists(folder) ? [.. Directory.EnumerateFiles(folder, "*.bin", SearchOption.AllDirectories)] : [];

    private static List<string> TempFiles(string folder) =>
        [.. Directory.EnumerateFiles(folder, ".cradle-*.tmp", SearchOption.AllDirectories)];

    /// <summary>The file's inode (stat(1)): a file written again gets a new one by its rename.</summary>
    private static ulong Inode(string path)
    {
        var info = new System.Diagnostics.ProcessStartInfo("stat") { RedirectStandardOutput = true };
        foreach (var a in new[] { "-c", "%i", path })
        {
            info.ArgumentList.Add(a);
        }

        using var stat = System.Diagnostics.Process.Start(info)!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    public void Dispose() => _folder.Dispose();
}
