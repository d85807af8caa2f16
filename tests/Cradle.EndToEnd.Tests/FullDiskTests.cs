using System.Diagnostics;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A backup into a host folder on a full filesystem (a 48 MiB tmpfs the test mounts) fails with
/// a message saying the host's disk is full, leaves the store consistent with nothing half
/// written listed, and completes once space is freed.
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();
    private string _mount = "";

    public Task InitializeAsync()
    {
        _mount = Path.Combine(_folder.Path, "small-disk");
        Directory.CreateDirectory(_mount);
        Run("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", _mount);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Run("umount", _mount);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_full_host_disk_fails_the_backup_clearly_and_it_completes_after_space_is_freed()
    {
        var data = Path.Combine(_mount, "host");
        var device = new TestDevice(_folder.Path, "full");
        Directory.CreateDirectory(device.DataFolder);
        var random = new Random(3);
        for (var i = 0; i < 4; i++)
        {
            var bytes = new byte[20 * 1024 * 1024];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(device.DataFolder, $"photo-{i}.jpg"), bytes);
        }

        Assert.Equal(0, (await device.RunAsync("init", "--name", "FULL-1", "--folder", device.DataFolder)).ExitCode);
        var host = await RunningHost.StartOnAsync(data, "small");
        await using (host)
        {
            var failed = await device.BackUpOnceAsync(host);
            Assert.Equal(4, failed.ExitCode);
            Assert.Contains("disk is full", failed.Stderr);
            Assert.Contains("Nothing of this backup was committed", failed.Stderr);

            Assert.Empty(JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.EnumerateArray());
            var check = await host.RunAsync("host", "check", "--read-data", "--json");
            Assert.True(check.ExitCode == 0, check.ToString());

            Run("mount", "-o", "remount,size=256m", _mount);
            var completed = await device.BackUpOnceAsync(host);
            Assert.True(completed.ExitCode == 0, completed.ToString());
            Assert.Single(JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.EnumerateArray());
            Assert.Equal(0, (await host.RunAsync("host", "check", "--read-data")).ExitCode);
            var target = Path.Combine(_folder.Path, "restored");
            Assert.Equal(0, (await host.RunAsync("host", "restore", "FULL-1", "--to", target)).ExitCode);
            TreeAssert.Identical(device.DataFolder, Path.Combine(target, Path.GetFileName(device.DataFolder)));
        }
    }

    private static void Run(string command, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed (the full-disk test needs root to mount a small tmpfs): {error}");
        }
    }

    public void Dispose() => _folder.Dispose();
}
