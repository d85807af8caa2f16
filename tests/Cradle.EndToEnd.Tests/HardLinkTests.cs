using System.Text.Json;
using Cradle.Content;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A file with several names on the device (hard links: a database and its "backup" name, a log
/// linked into an upload folder) crosses the wire once and comes back as one file with several
/// names, from the host (<c>host restore --to</c>) and onto the device (<c>device restore</c>),
/// with the real executable on loopback.
/// </summary>
public sealed class HardLinkTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Hard_links_cross_the_wire_once_and_come_back_as_hard_links_from_the_host_and_onto_the_device()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "links");
        var data = Directory.CreateDirectory(device.DataFolder).FullName;
        var content = TestData.Bytes(17, 4 * MiB);
        File.WriteAllBytes(Path.Combine(data, "orders.db"), content);
        Directory.CreateDirectory(Path.Combine(data, "upload"));
        FileIdentity.Link(Path.Combine(data, "orders.db"), Path.Combine(data, "upload", "orders.db"));
        FileIdentity.Link(Path.Combine(data, "orders.db"), Path.Combine(data, "zz-last-name.db"));
        File.WriteAllText(Path.Combine(data, "notes.txt"), "one name only");
        Assert.Equal(0, (await device.InitAsync("MX7-LINKS")).ExitCode);

        var backup = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var sent = JsonDocument.Parse(backup.Stdout).RootElement.GetProperty("wireBytesSent").GetInt64();
        Assert.True(sent < content.Length * 3 / 2, $"the backup sent {sent} bytes for one {content.Length}-byte file with three names");

        // From the host: one file, three names, as on the device.
        var restored = Path.Combine(_folder.Path, "restored");
        var restore = await host.RunAsync("host", "restore", "MX7-LINKS", "--to", restored);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Contains("2 of them hard links", restore.Stdout);
        var root = Directory.GetDirectories(restored).Single();
        TreeAssert.Identical(data, root);
        Assert.True(FileIdentity.SameFile(Path.Combine(root, "orders.db"), Path.Combine(root, "upload", "orders.db")), "host restore: the names were restored as separate files");
        Assert.True(FileIdentity.SameFile(Path.Combine(root, "orders.db"), Path.Combine(root, "zz-last-name.db")), "host restore: the names were restored as separate files");
        Assert.False(FileIdentity.SameFile(Path.Combine(root, "orders.db"), Path.Combine(root, "notes.txt")));

        // Onto the device, after the files are lost: the same.
        foreach (var name in new[] { "orders.db", "upload/orders.db", "zz-last-name.db", "notes.txt" })
        {
            File.Delete(Path.Combine(data, name));
        }

        var back = await device.RunAsync("restore", "--host", host.Address);
        Assert.True(back.ExitCode == 0, back.ToString());
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(data, "zz-last-name.db")));
        Assert.True(FileIdentity.SameFile(Path.Combine(data, "orders.db"), Path.Combine(data, "upload", "orders.db")), "device restore: the names were restored as separate files");
        Assert.True(FileIdentity.SameFile(Path.Combine(data, "orders.db"), Path.Combine(data, "zz-last-name.db")), "device restore: the names were restored as separate files");
        TreeAssert.Identical(root, data);
    }

    public void Dispose() => _folder.Dispose();
}
