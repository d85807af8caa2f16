using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// On a slow link the device compresses harder (issue 23): the real agent backs up 16 MiB of
/// logs through a relay that carries 2 MiB/s with a small buffer (the first 4 MiB or so vanish
/// into the device's own send buffer without waiting). The link then waits far longer than
/// compressing takes, so the session raises the zstd level, says so in its summary and in
/// `device status`, and what it sent restores byte for byte.
/// </summary>
public sealed class SlowLinkCompressionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_backup_over_a_slow_link_compresses_harder_says_so_and_restores_byte_for_byte()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        using var slow = TcpRelay.Start(host.Address, receiveBufferBytes: 64 * 1024);
        slow.DeviceToHostRate = 2 * 1024 * 1024;
        var device = new TestDevice(_folder.Path, "slow");
        Directory.CreateDirectory(device.DataFolder);
        var files = Enumerable.Range(0, 4).ToDictionary(i => $"scanner-{i}.log", i => ScannerLog(i, 4 * 1024 * 1024));
        foreach (var (name, content) in files)
        {
            File.WriteAllBytes(Path.Combine(device.DataFolder, name), content);
        }

        Assert.Equal(0, (await device.InitAsync("MX7-SLOW")).ExitCode);
        var backup = await device.RunAsync("connect", "--host", slow.Address, "--once", "--json");

        Assert.True(backup.ExitCode == 0, backup.ToString());
        var row = JsonDocument.Parse(backup.Stdout).RootElement;
        var highest = row.GetProperty("highestCompressionLevel").GetInt32();
        Assert.True(highest > 3, $"the level stayed at {highest} on a 2 MiB/s link: {backup.Stdout}");

        var status = await device.RunAsync("status");
        Assert.Contains($"compressed at zstd level {highest}: the link was slower than compressing", status.Stdout, StringComparison.Ordinal);

        var target = Path.Combine(_folder.Path, "restored");
        var restore = await host.RunAsync("host", "restore", "MX7-SLOW", "--to", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        foreach (var (name, content) in files)
        {
            Assert.Equal(content, File.ReadAllBytes(Path.Combine(target, Path.GetFileName(device.DataFolder), name)));
        }
    }

    /// <summary>Log lines with numbers and readings that vary: zstd -3 makes about a third of them, not a thirtieth.</summary>
    private static byte[] ScannerLog(int seed, int length)
    {
        string[] words = ["scanned", "battery", "docked", "aisle", "shelf", "picked", "label", "retry", "signal", "order"];
        var random = new Random(seed);
        var text = new System.Text.StringBuilder(length + 200);
        while (text.Length < length)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{random.Next(24):D2}:{random.Next(60):D2}:{random.Next(60):D2}.{random.Next(1000):D3} {words[random.Next(words.Length)]} {random.Next(100_000):D5} {random.NextDouble():F4} {random.Next():X8}\n");
        }

        return System.Text.Encoding.ASCII.GetBytes(text.ToString(0, length));
    }
}
