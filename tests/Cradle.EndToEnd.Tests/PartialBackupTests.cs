using System.Diagnostics;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Incomplete is never success, with the real executable: a device that cannot read a file or a
/// folder (it runs as nobody; the tests run as root, who reads everything), whose data folder is
/// gone, or whose file never holds still, commits a partial snapshot in which the earlier version
/// of what it could not read stands, exits 6, and every view says so: the device's output and
/// status, host snapshots and devices (text and JSON) and the API. Prune keeps the snapshot that
/// read everything.
/// </summary>
public sealed class PartialBackupTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task An_unreadable_file_and_folder_make_a_partial_snapshot_that_keeps_their_earlier_versions()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var data = _folder["data"];
        var state = _folder["state"];
        Directory.CreateDirectory(Path.Combine(data, "forms", "sub"));
        Directory.CreateDirectory(state);
        for (var i = 0; i < 13; i++)
        {
            File.WriteAllText(Path.Combine(data, "forms", "sub", $"form-{i:00}.txt"), $"form {i}\n");
        }

        File.WriteAllText(Path.Combine(data, "orders.csv"), "order,1\n");
        File.WriteAllText(Path.Combine(data, "readme.txt"), "always readable\n");
        Chown(data, state);
        Assert.Equal(0, (await Device("init", "--name", "MX7-03", "--folder", data)).ExitCode);
        var whole = await Device("connect", "--host", host.Address, "--once");
        Assert.True(whole.ExitCode == 0, whole.ToString());

        // The folder becomes root's alone; the file changes, then becomes root's alone too.
        Root(Path.Combine(data, "forms", "sub"));
        File.WriteAllText(Path.Combine(data, "orders.csv"), "order,2 (never backed up: unreadable)\n");
        Root(Path.Combine(data, "orders.csv"));
        var partial = await Device("connect", "--host", host.Address, "--once");

        Assert.True(partial.ExitCode == 6, partial.ToString());
        Assert.Contains("snapshot 2 committed on depot as PARTIAL: 15 files", partial.Stdout, StringComparison.Ordinal);
        Assert.Contains("partial: 2 entries could not be read (15 entries of earlier snapshots kept in their place)", partial.Stdout, StringComparison.Ordinal);
        Assert.Contains($"could not read {Path.Combine(data, "forms", "sub")}/: cannot list the folder: permission denied", partial.Stdout, StringComparison.Ordinal);
        Assert.Contains($"could not read {Path.Combine(data, "orders.csv")}: permission denied", partial.Stdout, StringComparison.Ordinal);

        // The host's views.
        var snapshots = await host.RunAsync("host", "snapshots", "MX7-03");
        Assert.Contains("PARTIAL", snapshots.Stdout, StringComparison.Ordinal);
        Assert.Contains("snapshot 2: partial: 2 entries could not be read", snapshots.Stdout, StringComparison.Ordinal);
        Assert.Contains("data/forms/sub/: cannot list the folder: permission denied (kept: 14 entries of snapshot 1)", snapshots.Stdout, StringComparison.Ordinal);
        var rows = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "MX7-03", "--json")).Stdout).RootElement;
        var second = rows[1];
        Assert.Equal(("complete", "partial", true, 2), (rows[0].GetProperty("status").GetString(), second.GetProperty("status").GetString(), second.GetProperty("partial").GetBoolean(), second.GetProperty("problems").GetInt32()));
        Assert.Equal(["data/forms/sub", "data/orders.csv"], second.GetProperty("problemList").EnumerateArray().Select(p => p.GetProperty("path").GetString()));
        Assert.Equal(1, second.GetProperty("problemList")[1].GetProperty("fromSnapshot").GetInt64());
        var device = JsonDocument.Parse((await host.RunAsync("host", "devices", "--json")).Stdout).RootElement[0];
        Assert.Equal(("partial", 2), (device.GetProperty("lastStatus").GetString(), device.GetProperty("lastSnapshot").GetInt32()));
        Assert.Contains("MX7-03: snapshot 2 is partial", (await host.RunAsync("host", "devices")).Stdout, StringComparison.Ordinal);
        using var http = await host.DashboardClientAsync();
        var api = JsonDocument.Parse(await http.GetStringAsync("api/v1/devices/MX7-03/snapshots")).RootElement;
        Assert.Equal("partial", api[1].GetProperty("status").GetString());
        var listing = JsonDocument.Parse(await http.GetStringAsync("api/v1/snapshots/2/entries?path=data/forms")).RootElement;
        Assert.Contains("the version of snapshot 1 is kept", listing.GetProperty("entries")[0].GetProperty("problem").GetString(), StringComparison.Ordinal);

        // The device's own view.
        var status = await Device("status");
        Assert.Contains("snapshot 2, 15 files", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("PARTIAL: 2 entries could not be read", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("could not read data/orders.csv: permission denied", status.Stdout, StringComparison.Ordinal);
        var statusJson = JsonDocument.Parse((await Device("status", "--json")).Stdout).RootElement.GetProperty("lastBackup");
        Assert.Equal(("partial", true), (statusJson.GetProperty("status").GetString(), statusJson.GetProperty("partial").GetBoolean()));

        // The restore of the partial snapshot holds the earlier versions, not an empty folder.
        var restored = _folder["restored"];
        Assert.Equal(0, (await host.RunAsync("host", "restore", "MX7-03", "--snapshot", "2", "--to", restored)).ExitCode);
        Assert.Equal(13, Directory.GetFiles(Path.Combine(restored, "data", "forms", "sub")).Length);
        Assert.Equal("order,1\n", File.ReadAllText(Path.Combine(restored, "data", "orders.csv")));

        // Prune keeps the snapshot that read everything; the partial one, restorable, stays too.
        var prune = await host.RunAsync("host", "prune", "--keep-last", "1", "--yes", "--json");
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Empty(JsonDocument.Parse(prune.Stdout).RootElement.GetProperty("removed").EnumerateArray());
        Assert.Equal(0, (await host.RunAsync("host", "check", "--read-data")).ExitCode);
    }

    [Fact]
    public async Task A_data_folder_that_is_gone_keeps_its_files_and_an_empty_one_is_flagged()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Directory.CreateDirectory(device.DataFolder);
        for (var i = 0; i < 12; i++)
        {
            File.WriteAllText(Path.Combine(device.DataFolder, $"scan-{i:00}.log"), $"scan {i}\n");
        }

        Assert.Equal(0, (await device.InitAsync("MX7-11")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        // Unmounted: the folder is not there at all.
        Directory.Move(device.DataFolder, device.DataFolder + ".away");
        var gone = await device.BackUpOnceAsync(host);
        Assert.True(gone.ExitCode == 6, gone.ToString());
        Assert.Contains("as PARTIAL: 12 files", gone.Stdout, StringComparison.Ordinal);
        Assert.Contains("does not exist (not mounted?)", gone.Stdout, StringComparison.Ordinal);

        // An empty mount point: nothing to read, and nothing the device could not read.
        Directory.CreateDirectory(device.DataFolder);
        var empty = await device.BackUpOnceAsync(host);
        Assert.True(empty.ExitCode == 6, empty.ToString());
        Assert.Contains("as EMPTY: 0 files", empty.Stdout, StringComparison.Ordinal);
        Assert.Contains("empty: the snapshot holds no file", empty.Stdout, StringComparison.Ordinal);
        var rows = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement;
        Assert.Equal(["complete", "partial", "empty"], rows.EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        Assert.True(rows[2].GetProperty("suspect").GetBoolean());

        // Mounted again: whole, and the last snapshot prune must keep moves on.
        Directory.Delete(device.DataFolder);
        Directory.Move(device.DataFolder + ".away", device.DataFolder);
        var back = await device.BackUpOnceAsync(host);
        Assert.True(back.ExitCode == 0, back.ToString());
    }

    [Fact]
    public async Task A_file_that_changes_at_every_read_keeps_its_earlier_version()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "busy");
        Directory.CreateDirectory(device.DataFolder);
        var log = Path.Combine(device.DataFolder, "capture.bin");
        const int Size = 64 * 1024 * 1024;
        File.WriteAllBytes(log, TestData.Bytes(1, Size));
        Assert.Equal(0, (await device.InitAsync("BUSY-1")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        // A writer that never stops: the file's time moves every millisecond or two, on a thread
        // of its own, while each read of the 64 MiB (a tenth of a second or more) is under way.
        File.WriteAllBytes(log, TestData.Bytes(2, Size));
        using var stop = new CancellationTokenSource();
        var writer = new Thread(() =>
        {
            var start = DateTime.UtcNow;
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                File.SetLastWriteTimeUtc(log, start.AddSeconds(n));
                Thread.Sleep(1);
            }
        }) { IsBackground = true };
        writer.Start();
        CradleProcess.Result busy;
        try
        {
            busy = await device.BackUpOnceAsync(host);
        }
        finally
        {
            await stop.CancelAsync();
            writer.Join();
        }

        Assert.True(busy.ExitCode == 6, busy.ToString());
        Assert.Contains("changed while it was read: reading it again", busy.Stderr, StringComparison.Ordinal);
        Assert.Contains($"could not read {log}: it changed while it was read, 3 times", busy.Stdout, StringComparison.Ordinal);
        var restored = _folder["restored"];
        Assert.Equal(0, (await host.RunAsync("host", "restore", "BUSY-1", "--to", restored)).ExitCode);
        Assert.Equal(TestData.Bytes(1, Size), File.ReadAllBytes(Path.Combine(restored, "data-busy", "capture.bin")));
    }

    private Task<CradleProcess.Result> Device(params string[] args) =>
        CradleProcess.RunAsNobodyAsync(["device", .. args, "--state", _folder["state"]]);

    /// <summary>The data and state folders become nobody's, as a device's own files are its agent's.</summary>
    private static void Chown(params string[] paths)
    {
        foreach (var path in paths)
        {
            Run("chown", "-R", "65534:65534", path);
        }
    }

    /// <summary>Root's alone: nobody can neither list nor read it.</summary>
    private static void Root(string path)
    {
        Run("chown", "0:0", path);
        Run("chmod", "0700", path);
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
