using System.Text;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>Backup, then restore on the host, byte for byte: the real executables over loopback.</summary>
public sealed class RoundTripTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Empty_files_deep_folders_unicode_names_modes_and_a_200_MB_file_restore_byte_for_byte()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "rt");
        var data = device.DataFolder;
        Directory.CreateDirectory(data);
        File.WriteAllBytes(Path.Combine(data, "empty.bin"), []);
        var deep = Path.Combine(data, string.Join(Path.DirectorySeparatorChar, Enumerable.Range(0, 24).Select(i => $"level{i}")));
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Combine(deep, "bottom.txt"), "at the bottom\n");
        Directory.CreateDirectory(Path.Combine(data, "empty-folder", "also-empty"));
        File.WriteAllText(Path.Combine(data, "Größe – 日本語 – 😀.txt"), "unicode\n", Encoding.UTF8);
        File.WriteAllText(Path.Combine(data, "names differ only by case.TXT"), "upper\n");
        File.WriteAllText(Path.Combine(data, "names differ only by case.txt"), "lower\n");
        using (var big = File.Create(Path.Combine(data, "video.mp4")))
        {
            var block = new byte[1 << 20];
            for (var i = 0; i < 200; i++)
            {
                TestData.Fill((ulong)i + 1, block);
                big.Write(block);
            }
        }

        File.SetLastWriteTimeUtc(Path.Combine(data, "empty.bin"), new DateTime(2001, 2, 3, 4, 5, 6, 789, DateTimeKind.Utc));

        // Permission bits come back (TreeAssert compares them); a set-user-id bit does not.
        File.WriteAllText(Path.Combine(data, "run.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(data, "run.sh"), (UnixFileMode)Convert.ToInt32("755", 8));
        File.WriteAllText(Path.Combine(data, "read-only.txt"), "do not touch\n");
        File.SetUnixFileMode(Path.Combine(data, "read-only.txt"), (UnixFileMode)Convert.ToInt32("444", 8));
        File.WriteAllText(Path.Combine(data, "setuid"), "x");
        File.SetUnixFileMode(Path.Combine(data, "setuid"), (UnixFileMode)Convert.ToInt32("4750", 8));
        File.SetUnixFileMode(Path.Combine(data, "empty-folder"), (UnixFileMode)Convert.ToInt32("700", 8));
        Assert.Equal(0, (await device.RunAsync("init", "--name", "RT-1", "--folder", data)).ExitCode);

        var backup = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var result = JsonDocument.Parse(backup.Stdout).RootElement;
        Assert.Equal(9, result.GetProperty("files").GetInt64());

        var target = Path.Combine(_folder.Path, "restored");
        var restore = await host.RunAsync("host", "restore", "RT-1", "--to", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(data, Path.Combine(target, Path.GetFileName(data)));
        var restoredSetuid = Path.Combine(target, Path.GetFileName(data), "setuid");
        Assert.Equal((UnixFileMode)Convert.ToInt32("750", 8), File.GetUnixFileMode(restoredSetuid));

        // An unchanged re-run reads nothing and sends no chunk: only the file list and the
        // chunk ids it names (twice today: in the query and in the entries) cross the link.
        var again = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
        var second = JsonDocument.Parse(again.Stdout).RootElement;
        Assert.Equal(0, second.GetProperty("bytesRead").GetInt64());
        Assert.Equal(0, second.GetProperty("chunksSent").GetInt64());
        Assert.True(second.GetProperty("wireBytesSent").GetInt64() < 200 * 1024 * 1024 / 500, again.Stdout);

        // Nothing changed: no second, identical snapshot; the first is verified as of this run.
        Assert.True(second.GetProperty("unchanged").GetBoolean(), again.Stdout);
        Assert.Equal(result.GetProperty("snapshot").GetInt64(), second.GetProperty("snapshot").GetInt64());
        var snapshots = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "RT-1", "--json")).Stdout).RootElement.EnumerateArray().ToList();
        var only = Assert.Single(snapshots);
        Assert.Equal("RT-1", only.GetProperty("device").GetString());
        Assert.Equal(9, only.GetProperty("files").GetInt64());
        Assert.Equal(JsonValueKind.String, only.GetProperty("verified").ValueKind);
        var onDisk = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(onDisk > 200L * 1024 * 1024);
        Assert.Equal(onDisk, only.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task A_second_host_lacking_every_cached_chunk_gets_each_one_once_as_the_files_are_read_again()
    {
        // The files cache says "unchanged" for every file, but host B has none of the chunks:
        // each is owed and read again. Copies in later batches name owed chunks (their files
        // are read again too), and a new file holds one's data (it goes out with that batch).
        await using var hostA = await RunningHost.StartAsync(_folder.Path, "hostA");
        await using var hostB = await RunningHost.StartAsync(_folder.Path, "hostB");
        var device = new TestDevice(_folder.Path, "owed");
        var data = device.DataFolder;
        Directory.CreateDirectory(data);
        for (var i = 0; i < 24; i++)
        {
            File.WriteAllBytes(Path.Combine(data, $"a-{i:D2}.bin"), TestData.Bytes((ulong)i + 100, 1 << 20));
        }

        for (var i = 0; i < 24; i += 3)
        {
            File.Copy(Path.Combine(data, $"a-{i:D2}.bin"), Path.Combine(data, $"m-copy-{i:D2}.bin"));
        }

        Assert.Equal(0, (await device.RunAsync("init", "--name", "OWED-1", "--folder", data)).ExitCode);
        var toA = await device.BackUpOnceAsync(hostA);
        Assert.True(toA.ExitCode == 0, toA.ToString());
        File.Copy(Path.Combine(data, "a-01.bin"), Path.Combine(data, "z-new.bin"));

        var toB = await device.RunAsync("connect", "--host", hostB.Address, "--once", "--json");
        Assert.True(toB.ExitCode == 0, toB.ToString());
        var result = JsonDocument.Parse(toB.Stdout).RootElement;
        Assert.Equal(33, result.GetProperty("files").GetInt64());
        // 24 MiB of distinct data crossed once, not once per copy.
        var stored = JsonDocument.Parse((await hostB.RunAsync("host", "snapshots", "OWED-1", "--json")).Stdout).RootElement.EnumerateArray().Single();
        Assert.Equal(33, stored.GetProperty("files").GetInt64());
        Assert.InRange(result.GetProperty("wireBytesSent").GetInt64(), 24L << 20, 26L << 20);

        var target = Path.Combine(_folder.Path, "restored-b");
        var restore = await hostB.RunAsync("host", "restore", "OWED-1", "--to", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(data, Path.Combine(target, Path.GetFileName(data)));

        // The files read again at the end were merged into the files cache in their place:
        // the next backup to host B reads nothing.
        var again = await device.RunAsync("connect", "--host", hostB.Address, "--once", "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(0, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("bytesRead").GetInt64());
    }

    [Fact]
    public async Task A_damaged_files_cache_is_not_used_every_file_is_read_again_and_restores_byte_for_byte()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "damaged");
        var data = device.DataFolder;
        for (var i = 0; i < 40; i++)
        {
            var path = Path.Combine(data, $"d{i % 4}", $"f{i:D2}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, TestData.Bytes((ulong)i + 7, 20_000 + i));
        }

        Assert.Equal(0, (await device.RunAsync("init", "--name", "DMG-1", "--folder", data)).ExitCode);
        var first = await device.BackUpOnceAsync(host);
        Assert.True(first.ExitCode == 0, first.ToString());
        var total = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        // A flipped bit in the middle of the cache (inside an entry), then a truncated cache.
        var cache = Path.Combine(device.State, "volatile", "files.cache");
        var bytes = File.ReadAllBytes(cache);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(cache, bytes);
        foreach (var damage in new[] { "flipped", "truncated" })
        {
            if (damage == "truncated")
            {
                File.WriteAllBytes(cache, File.ReadAllBytes(cache)[..(bytes.Length / 2)]);
            }

            var run = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("files cache is unreadable", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(total, JsonDocument.Parse(run.Stdout).RootElement.GetProperty("bytesRead").GetInt64());
        }

        var clean = await device.RunAsync("connect", "--host", host.Address, "--once", "--json");
        Assert.Equal(0, JsonDocument.Parse(clean.Stdout).RootElement.GetProperty("bytesRead").GetInt64());
        var target = Path.Combine(_folder.Path, "restored-damaged");
        var restore = await host.RunAsync("host", "restore", "DMG-1", "--to", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(data, Path.Combine(target, Path.GetFileName(data)));
    }

    [Fact]
    public async Task A_damaged_pack_record_stops_a_restore_over_the_wire_no_wrong_file_and_the_host_names_the_pack()
    {
        // The host sends chunks to a device as its packs hold them, unverified: the device checks
        // each one against its id, and the host, told the restore stopped, names the damaged pack.
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "wire-damage");
        var data = device.DataFolder;
        Directory.CreateDirectory(data);
        var big = TestData.Bytes(11, 3_000_000);
        File.WriteAllBytes(Path.Combine(data, "big.bin"), big);
        Assert.Equal(0, (await device.InitAsync("WIRE-1")).ExitCode);
        var backup = await device.BackUpOnceAsync(host);
        Assert.True(backup.ExitCode == 0, backup.ToString());

        // The only pack's first record is big.bin's first chunk (random bytes: stored raw).
        // Flip a byte in the middle of its data.
        var pack = Directory.EnumerateFiles(Path.Combine(host.Data, "packs"), "*.pack", SearchOption.AllDirectories)
            .OrderByDescending(f => new FileInfo(f).Length).First();
        using (var stream = File.Open(pack, FileMode.Open, FileAccess.ReadWrite))
        {
            var header = new byte[41];
            stream.Position = 28;
            stream.ReadExactly(header);
            var stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(1));
            stream.Position = 28 + 41 + (stored / 2);
            var b = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(b ^ 0x01));
        }

        File.Delete(Path.Combine(data, "big.bin"));
        var restore = await device.RunAsync("restore", "--host", host.Address);
        Assert.True(restore.ExitCode == 1, restore.ToString());
        Assert.Contains("does not match its hash", restore.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "big.bin")), "a file restored from a damaged chunk");
        Assert.Empty(Directory.EnumerateFiles(data, ".cradle-restore-*"));

        var name = Path.GetRelativePath(Path.Combine(host.Data, "packs"), pack);
        Assert.True(await host.Process.WaitForOutputAsync($"the store is damaged: pack {name}: chunk", TimeSpan.FromSeconds(10)), host.Process.Stderr);
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>Two folder trees hold the same paths (folders too), contents and modification times.</summary>
public static class TreeAssert
{
    public static void Identical(string expected, string actual) =>
        Assert.Empty(Cradle.Content.TreeComparer.Compare(expected, actual));
}
