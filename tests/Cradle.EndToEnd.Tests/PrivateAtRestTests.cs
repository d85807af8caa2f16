using System.Diagnostics;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 19, hole 6: with a data folder that already existed at 0755, or packs in a folder of
/// their own, packs were 0644 and any local user could read a device's files out of them. Now
/// every folder of the store is 0700 and every file 0600, repaired at start whatever was there.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PrivateAtRestTests : IDisposable
{
    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_store_left_readable_by_others_is_made_private_at_start_packs_elsewhere_too()
    {
        var data = _folder["host"];
        var packs = _folder["packs-elsewhere"];
        string[] extra = ["--packs", packs, "--log-file", "logs/cradle.log"];
        var device = new TestDevice(_folder.Path, "payroll");
        Directory.CreateDirectory(device.DataFolder);
        await File.WriteAllTextAsync(Path.Combine(device.DataFolder, "payroll.csv"), "name,salary\nconfidential payroll,100000\n");
        await device.InitAsync("PAYROLL-1");
        await using (var host = await RunningHost.StartOnAsync(data, "depot", extra: extra))
        {
            Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        }

        // What an older build (or a folder made by hand) left: everything readable by everyone.
        foreach (var root in new[] { data, packs })
        {
            OpenToAll(root);
        }

        var pack = Directory.EnumerateFiles(packs, "*.pack", SearchOption.AllDirectories).First();
        Assert.True(await ReadsAsNobodyAsync(pack), "the test's own setup: nobody can read the open pack");

        await using (var host = await RunningHost.StartOnAsync(data, "depot", extra: extra))
        {
            Assert.True(await host.Process.WaitForOutputAsync("were made private", TimeSpan.FromSeconds(10)), host.Process.Stderr);
            foreach (var root in new[] { data, packs })
            {
                AssertPrivate(root);
            }

            Assert.False(await ReadsAsNobodyAsync(pack), "another user still reads the pack");

            // New data is private from the start, whatever the umask this host was started with.
            await File.WriteAllTextAsync(Path.Combine(device.DataFolder, "payroll-2.csv"), "name,salary\nmore confidential payroll,200000\n");
            Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
            foreach (var root in new[] { data, packs })
            {
                AssertPrivate(root);
            }
        }
    }

    private static void OpenToAll(string root)
    {
        File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("755", 8));
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(entry.FullName, (UnixFileMode)Convert.ToInt32(entry is DirectoryInfo ? "755" : "644", 8));
        }
    }

    private static void AssertPrivate(string root)
    {
        Assert.Equal((UnixFileMode)0, File.GetUnixFileMode(root) & Others);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            Assert.True((File.GetUnixFileMode(entry.FullName) & Others) == 0, $"{entry.FullName} is {File.GetUnixFileMode(entry.FullName)}");
        }
    }

    /// <summary>Whether user nobody (65534) can read the file: a real read by another user, through setpriv.</summary>
    private static async Task<bool> ReadsAsNobodyAsync(string path)
    {
        using var read = Process.Start(new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await read.StandardOutput.ReadToEndAsync();
        await read.WaitForExitAsync();
        return read.ExitCode == 0;
    }
}
