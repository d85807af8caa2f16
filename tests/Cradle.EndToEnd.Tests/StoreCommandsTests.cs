using System.Buffers.Binary;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary><c>cradle host check</c>, <c>host prune</c> and suspect snapshots, with the real executable on a store real backups made.</summary>
public sealed class StoreCommandsTests : IDisposable
{
    private const int PackHeaderLength = 28;
    private const int RecordHeaderLength = 41;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Check_finds_a_flipped_byte_naming_device_and_file_and_prune_keeps_the_last_backup_restorable()
    {
        var device = new TestDevice(_folder.Path, "store");
        var data = device.DataFolder;
        Directory.CreateDirectory(Path.Combine(data, "photos"));
        File.WriteAllBytes(Path.Combine(data, "big.bin"), TestData.Bytes(1, 3_000_000));
        File.WriteAllBytes(Path.Combine(data, "notes.txt"), TestData.Text(40_000));
        File.WriteAllBytes(Path.Combine(data, "photos", "pic.jpg"), TestData.Bytes(2, 500_000));
        Assert.Equal(0, (await device.InitAsync("STORE-1")).ExitCode);
        var label = Path.GetFileName(data);

        var host = await RunningHost.StartAsync(_folder.Path, "depot");
        try
        {
            var first = await device.BackUpOnceAsync(host);
            Assert.True(first.ExitCode == 0, first.ToString());
            File.WriteAllBytes(Path.Combine(data, "notes.txt"), TestData.Text(45_000));
            File.WriteAllBytes(Path.Combine(data, "photos", "new.jpg"), TestData.Bytes(3, 400_000));
            File.Delete(Path.Combine(data, "photos", "pic.jpg"));
            var second = await device.BackUpOnceAsync(host);
            Assert.True(second.ExitCode == 0, second.ToString());
        }
        finally
        {
            await host.DisposeAsync();
        }

        var pristine = _folder["pristine-host"];
        TempFolder.CopyTree(host.Data, pristine);

        var clean = await host.RunAsync("host", "check", "--read-data", "--json");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        var report = JsonDocument.Parse(clean.Stdout).RootElement;
        Assert.True(report.GetProperty("ok").GetBoolean());
        Assert.Equal(2, report.GetProperty("snapshots").GetInt64());
        Assert.True(report.GetProperty("bytesRead").GetInt64() > 3_000_000);
        Assert.Empty(report.GetProperty("problems").EnumerateArray());

        // The biggest pack is the first backup's; its first record is big.bin's first chunk
        // (the device reads folders in name order). Flip a byte in the middle of that chunk's data.
        var biggest = Directory.EnumerateFiles(Path.Combine(host.Data, "packs"), "*.pack", SearchOption.AllDirectories)
            .OrderByDescending(f => new FileInfo(f).Length).First();
        using (var pack = new FileStream(biggest, FileMode.Open, FileAccess.ReadWrite))
        {
            var recordHeader = new byte[RecordHeaderLength];
            pack.Position = PackHeaderLength;
            pack.ReadExactly(recordHeader);
            var stored = BinaryPrimitives.ReadUInt32LittleEndian(recordHeader.AsSpan(1));
            pack.Position = PackHeaderLength + RecordHeaderLength + (stored / 2);
            var b = pack.ReadByte();
            pack.Position--;
            pack.WriteByte((byte)(b ^ 0x01));
        }

        var quick = await host.RunAsync("host", "check");
        Assert.True(quick.ExitCode == 0, "without --read-data no chunk data is read\n" + quick);

        var damaged = await host.RunAsync("host", "check", "--read-data");
        Assert.True(damaged.ExitCode == 5, "exit code 5: the store is damaged\n" + damaged);
        Assert.Contains("damaged-chunk", damaged.Stdout, StringComparison.Ordinal);
        Assert.Contains("STORE-1", damaged.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{label}/big.bin", damaged.Stdout, StringComparison.Ordinal);

        var damagedJson = await host.RunAsync("host", "check", "--read-data", "--json");
        Assert.Equal(5, damagedJson.ExitCode);
        var found = JsonDocument.Parse(damagedJson.Stdout).RootElement;
        Assert.False(found.GetProperty("ok").GetBoolean());
        var problem = Assert.Single(found.GetProperty("problems").EnumerateArray());
        Assert.Equal("damaged-chunk", problem.GetProperty("kind").GetString());
        Assert.Equal(Path.GetRelativePath(Path.Combine(host.Data, "packs"), biggest), problem.GetProperty("pack").GetString());
        var affected = problem.GetProperty("affected").EnumerateArray().ToList();
        Assert.Equal(2, affected.Count);
        Assert.All(affected, a =>
        {
            Assert.Equal("STORE-1", a.GetProperty("device").GetString());
            Assert.Equal([$"{label}/big.bin"], a.GetProperty("paths").EnumerateArray().Select(p => p.GetString()));
        });

        // Restoring a snapshot that needs the damaged chunk stops with the same code, naming the pack.
        var damagedRestore = await host.RunAsync("host", "restore", "STORE-1", "--snapshot", "1", "--to", _folder["from-damaged"]);
        Assert.True(damagedRestore.ExitCode == 5, damagedRestore.ToString());
        Assert.Contains($"the store is damaged: pack {problem.GetProperty("pack").GetString()}: chunk", damagedRestore.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not match its hash", damagedRestore.Stderr, StringComparison.Ordinal);

        // Prune the undamaged copy: the older snapshot goes, the newest restores byte for byte.
        var prune = await CradleProcess.RunAsync("host", "prune", "--keep-last", "1", "--json", "--yes", "--data", pristine);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        var pruned = JsonDocument.Parse(prune.Stdout).RootElement;
        Assert.Single(pruned.GetProperty("removed").EnumerateArray());
        Assert.Equal(1, pruned.GetProperty("snapshotsKept").GetInt32());
        var snapshots = JsonDocument.Parse((await CradleProcess.RunAsync("host", "snapshots", "--json", "--data", pristine)).Stdout).RootElement;
        Assert.Equal(1, snapshots.GetArrayLength());

        var target = _folder["restored"];
        var restore = await CradleProcess.RunAsync("host", "restore", "STORE-1", "--to", target, "--data", pristine);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        TreeAssert.Identical(data, Path.Combine(target, label));

        var afterPrune = await CradleProcess.RunAsync("host", "check", "--read-data", "--data", pristine);
        Assert.True(afterPrune.ExitCode == 0, afterPrune.ToString());
    }

    [Fact]
    public async Task A_backup_in_which_most_files_vanished_is_listed_as_suspect_and_prune_keeps_the_one_before()
    {
        var device = new TestDevice(_folder.Path, "vanish");
        Directory.CreateDirectory(device.DataFolder);
        for (var i = 0; i < 12; i++)
        {
            File.WriteAllText(Path.Combine(device.DataFolder, $"doc-{i:00}.txt"), $"document {i}\n");
        }

        Assert.Equal(0, (await device.InitAsync("VANISH-1")).ExitCode);
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var first = await device.BackUpOnceAsync(host);
        Assert.True(first.ExitCode == 0, first.ToString());
        for (var i = 2; i < 12; i++)
        {
            File.Delete(Path.Combine(device.DataFolder, $"doc-{i:00}.txt"));
        }

        // Committed, but not whole: exit 6, and said so.
        var second = await device.BackUpOnceAsync(host);
        Assert.True(second.ExitCode == 6, second.ToString());
        Assert.Contains("as SUSPECT: 2 files", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("most files vanished: 2 now, 12 in the complete snapshot before", second.Stdout, StringComparison.Ordinal);

        var listed = await host.RunAsync("host", "snapshots", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var rows = JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal((12L, false), (rows[0].GetProperty("files").GetInt64(), rows[0].GetProperty("suspect").GetBoolean()));
        Assert.Equal((2L, true), (rows[1].GetProperty("files").GetInt64(), rows[1].GetProperty("suspect").GetBoolean()));
        var table = await host.RunAsync("host", "snapshots");
        Assert.True(table.Stdout.Contains("vanished", StringComparison.Ordinal), table.ToString());

        // keep-last 1 would keep only the suspect one; the last complete snapshot stays as well.
        var prune = await host.RunAsync("host", "prune", "--keep-last", "1", "--json", "--yes");
        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Empty(JsonDocument.Parse(prune.Stdout).RootElement.GetProperty("removed").EnumerateArray());
        Assert.Equal(2, JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task A_truncated_pack_is_store_damage_for_check_and_for_restore_exit_code_5()
    {
        var fixture = await ReleaseFixture.ExtractAsync("v0.4.0", _folder["fixture"]);
        // The first backup's pack (the bigger one) holds chunks the second snapshot shares too.
        var biggest = Directory.EnumerateFiles(Path.Combine(fixture.Host, "packs"), "*.pack", SearchOption.AllDirectories)
            .OrderByDescending(f => new FileInfo(f).Length).First();
        var name = Path.GetRelativePath(Path.Combine(fixture.Host, "packs"), biggest);
        using (var pack = new FileStream(biggest, FileMode.Open, FileAccess.Write))
        {
            pack.SetLength(pack.Length / 2);
        }

        var check = await CradleProcess.RunAsync("host", "check", "--json", "--data", fixture.Host);
        Assert.True(check.ExitCode == 5, check.ToString());
        var problems = JsonDocument.Parse(check.Stdout).RootElement.GetProperty("problems").EnumerateArray().ToList();
        Assert.Contains(problems, p => p.GetProperty("kind").GetString() == "truncated-pack" && p.GetProperty("pack").GetString() == name);

        var restore = await CradleProcess.RunAsync("host", "restore", "FIXTURE-1", "--to", _folder["restored"], "--data", fixture.Host);
        Assert.True(restore.ExitCode == 5, restore.ToString());
        Assert.Contains($"the store is damaged: pack {name} is truncated", restore.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_catalog_that_is_not_a_database_is_store_damage_exit_code_5_not_a_crash()
    {
        var fixture = await ReleaseFixture.ExtractAsync("v0.4.0", _folder["fixture"]);
        File.WriteAllBytes(Path.Combine(fixture.Host, "cradle.db"), TestData.Bytes(7, 65_536));

        var check = await CradleProcess.RunAsync("host", "check", "--data", fixture.Host);
        Assert.True(check.ExitCode == 5, check.ToString());
        Assert.StartsWith("the store is damaged: its catalog (cradle.db) cannot be read", check.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", check.Stderr, StringComparison.Ordinal);
    }
}
