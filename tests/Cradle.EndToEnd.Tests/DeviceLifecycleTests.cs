using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 5 end to end with the real executable and real hosts on loopback: restore onto the
/// device, the guest after a cold boot, reclaim (P9), and what each protection refuses.
/// </summary>
public sealed class DeviceLifecycleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Cold_boot_guest_restore_with_consent_every_file_back_then_a_new_name_P3_P6_P7()
    {
        await using var hostA = await RunningHost.StartAsync(_folder.Path, "hostA");
        await using var hostB = await RunningHost.StartAsync(_folder.Path, "hostB");
        var device = new TestDevice(_folder.Path, "mx7");
        var files = WriteFiles(device.DataFolder);
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(hostA)).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(hostB)).ExitCode);

        // The cold boot loses the partnership with B (the newest), and here the files too.
        Assert.Contains("hostB", (await device.RunAsync("cold-boot", "--yes")).Stdout);
        Directory.Delete(device.DataFolder, recursive: true);
        Directory.CreateDirectory(device.DataFolder);

        // Without the operator's consent a guest gets nothing.
        var refused = await device.RunAsync("restore", "--host", hostB.Address);
        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains("refused: ", refused.Stderr);
        Assert.Contains("needs the operator's consent", refused.Stderr);
        Assert.Contains("cradle host allow-restore MX7-01 --to MX7-01", refused.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(device.DataFolder));

        // A guest visit: served, nothing stored for it.
        var guest = await device.RunAsync("connect", "--guest", "--host", hostB.Address);
        Assert.True(guest.ExitCode == 0, guest.ToString());
        Assert.Contains("as a guest", guest.Stdout);
        Assert.Single(await DevicesAsync(hostB));

        // The operator allows it: every file comes back byte for byte, without a new partnership.
        var allow = await hostB.RunAsync("host", "allow-restore", "MX7-01", "--to", "MX7-01", "--expires", "10");
        Assert.True(allow.ExitCode == 0, allow.ToString());
        var restore = await device.RunAsync("restore", "--host", hostB.Address);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Contains("as a guest, allowed by the operator", restore.Stdout);
        Assert.Contains($"{files.Count} restored", restore.Stdout);
        AssertSameFiles(files, device.DataFolder);
        Assert.Equal(["hostA"], (await PartnershipsAsync(device)).Select(p => p.GetProperty("host").GetString()));

        // The consent was for one restore.
        var again = await device.RunAsync("restore", "--host", hostB.Address);
        Assert.Equal(3, again.ExitCode);
        Assert.Contains("consent", again.Stderr);

        // A guest cannot back up: B still refuses the old name (P7), and says every way out.
        var p7 = await device.BackUpOnceAsync(hostB);
        Assert.Equal(3, p7.ExitCode);
        Assert.Contains("refused: host hostB already has a partnership with a device named MX7-01", p7.Stderr);
        Assert.DoesNotContain("P5", p7.Stderr);
        Assert.Contains("host hostB already has a partnership with a device named MX7-01", p7.Stderr);
        Assert.Contains("rename would also end the partnership with hostA", p7.Stderr);
        Assert.Contains("cradle host forget MX7-01 --keep-backups", p7.Stderr);
        Assert.Contains("--allow-reclaim", p7.Stderr);

        // A new partnership under a new name; the old name's history stays on the host (P4).
        var rename = await device.RunAsync("name", "MX7-02", "--yes");
        Assert.True(rename.ExitCode == 0, rename.ToString());
        Assert.Contains("ended the partnership with hostA", rename.Stdout);
        Assert.Equal(0, (await device.BackUpOnceAsync(hostB)).ExitCode);
        var devices = await DevicesAsync(hostB);
        Assert.Equal(["MX7-01", "MX7-02"], devices.Select(d => d.GetProperty("name").GetString()).Order());
        Assert.Equal(1, devices.Single(d => d.GetProperty("name").GetString() == "MX7-01").GetProperty("snapshots").GetInt32());
    }

    [Fact]
    public async Task Reclaim_on_a_host_that_allows_it_continues_the_record_and_spares_the_other_partnership_P9()
    {
        await using var hostA = await RunningHost.StartAsync(_folder.Path, "hostA");
        await using var hostB = await RunningHost.StartOnAsync(Path.Combine(_folder.Path, "host-hostB"), "hostB", extra: ["--allow-reclaim"]);
        var device = new TestDevice(_folder.Path, "mx7");
        var files = WriteFiles(device.DataFolder);
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(hostA)).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(hostB)).ExitCode);
        File.WriteAllText(Path.Combine(device.DataFolder, "later.txt"), "second backup\n");
        Assert.Equal(0, (await device.BackUpOnceAsync(hostB)).ExitCode);
        var numberOnA = (await PartnershipsAsync(device)).Single(p => p.GetProperty("host").GetString() == "hostA").GetProperty("number").GetUInt32();
        var before = await DevicesAsync(hostB);
        Assert.Equal(0, (await device.RunAsync("cold-boot", "--yes")).ExitCode);

        // A second device with a copy of the state folder but its own recovery key cannot reclaim.
        var twin = new TestDevice(_folder.Path, "twin");
        CopyFolder(device.State, twin.State);
        var identityPath = Path.Combine(twin.State, "persistent", "device.json");
        var identity = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(identityPath))!;
        var key = identity["recoveryKey"]!.GetValue<string>();
        identity["recoveryKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        File.WriteAllText(identityPath, identity.ToJsonString());
        Assert.NotEqual(key, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(identityPath))!["recoveryKey"]!.GetValue<string>());
        var stolen = await twin.BackUpOnceAsync(hostB);
        Assert.True(stolen.ExitCode == 3, stolen.ToString());
        Assert.Contains("refused: ", stolen.Stderr);
        Assert.Contains("did not prove the recovery key", stolen.Stderr);
        Assert.True(await hostB.Process.WaitForOutputAsync("reclaim of MX7-01 refused", TimeSpan.FromSeconds(10)), hostB.Process.Stderr);
        // ...nor restore the first one's files without consent.
        var twinRestore = await twin.RunAsync("restore", "--host", hostB.Address);
        Assert.Equal(3, twinRestore.ExitCode);
        Assert.Contains("consent", twinRestore.Stderr);

        // The device itself proves its key: same record, new number, no rename.
        var reclaim = await device.BackUpOnceAsync(hostB);
        Assert.True(reclaim.ExitCode == 0, reclaim.ToString());
        Assert.Contains("reclaimed the partnership with hostB", reclaim.Stderr);
        var after = await DevicesAsync(hostB);
        Assert.Single(after);
        Assert.Equal("MX7-01", after[0].GetProperty("name").GetString());
        Assert.NotEqual(before[0].GetProperty("number").GetUInt32(), after[0].GetProperty("number").GetUInt32());
        Assert.Equal(before[0].GetProperty("created").GetString(), after[0].GetProperty("created").GetString());
        // The same record: the files are those of its last snapshot, which is verified, not repeated.
        Assert.Contains("nothing changed since snapshot", reclaim.Stdout);
        var snapshots = JsonDocument.Parse((await hostB.RunAsync("host", "snapshots", "MX7-01", "--json")).Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, snapshots.Count);
        Assert.Equal(JsonValueKind.String, snapshots[1].GetProperty("verified").ValueKind);

        // The partnership with A is untouched and still works.
        var slots = await PartnershipsAsync(device);
        Assert.Equal(numberOnA, slots.Single(p => p.GetProperty("host").GetString() == "hostA").GetProperty("number").GetUInt32());
        Assert.Equal(0, (await device.BackUpOnceAsync(hostA)).ExitCode);

        // The reclaimed partnership restores its own history without asking: the first snapshot.
        Directory.Delete(device.DataFolder, recursive: true);
        Directory.CreateDirectory(device.DataFolder);
        var first = snapshots[0].GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var restore = await device.RunAsync("restore", "--host", hostB.Address, "--snapshot", first);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Contains("partnership", restore.Stdout);
        AssertSameFiles(files, device.DataFolder);
    }

    [Fact]
    public async Task Without_allow_reclaim_a_cold_booted_device_is_refused_per_P7_with_every_way_out()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "hostC");
        var device = new TestDevice(_folder.Path, "mx7");
        WriteFiles(device.DataFolder);
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        var number = (await DevicesAsync(host))[0].GetProperty("numberHex").GetString()!;
        Assert.Equal(0, (await device.RunAsync("cold-boot", "--yes")).ExitCode);

        var refused = await device.BackUpOnceAsync(host);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("refused: ", refused.Stderr);
        Assert.Contains("a name partners with a host only once", refused.Stderr);
        Assert.Contains($"number {number}", refused.Stderr);
        Assert.Contains("rename this device", refused.Stderr);
        Assert.Contains("holds no other partnership", refused.Stderr);
        Assert.Contains("cradle host run --allow-reclaim", refused.Stderr);
        Assert.DoesNotContain("reclaimed", refused.Stderr);

        // Forget --keep-backups releases the name: the device partners again, the old backup stays.
        var forget = await host.RunAsync("host", "forget", "MX7-01", "--keep-backups", "--yes");
        Assert.True(forget.ExitCode == 0, forget.ToString());
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        var snapshots = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "MX7-01", "--json")).Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, snapshots.Count);

        // The new partnership under the released name does not own the kept backup.
        var old = snapshots[0].GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var notYours = await device.RunAsync("restore", "--host", host.Address, "--snapshot", old);
        Assert.Equal(3, notYours.ExitCode);
        Assert.Contains("consent", notYours.Stderr);
    }

    [Fact]
    public async Task A_rename_that_would_end_partnerships_asks_first_P8()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "hostA");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        var unconfirmed = await device.RunAsync("name", "MX7-02");
        Assert.Equal(2, unconfirmed.ExitCode);
        Assert.Contains("ends the partnership with hostA", unconfirmed.Stdout);
        Assert.Contains("run 'cradle device name MX7-02 --yes'", unconfirmed.Stderr);
        Assert.Equal("MX7-01", (await device.RunAsync("name")).Stdout.Trim());
        Assert.Single(await PartnershipsAsync(device));

        Assert.Equal(0, (await device.RunAsync("name", "MX7-02", "--yes")).ExitCode);
        Assert.Empty(await PartnershipsAsync(device));
    }

    [Fact]
    public async Task Restore_never_writes_outside_the_data_folders_whatever_paths_the_host_sends()
    {
        var device = new TestDevice(_folder.Path, "evil");
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);
        var outside = Path.Combine(_folder.Path, "outside");
        Directory.CreateDirectory(outside);
        var precious = Path.Combine(outside, "precious.txt");
        File.WriteAllText(precious, "keep me\n");
        Directory.CreateSymbolicLink(Path.Combine(device.DataFolder, "link"), outside);
        File.CreateSymbolicLink(Path.Combine(device.DataFolder, "linkfile"), precious);
        var label = Path.GetFileName(device.DataFolder);

        string[] hostile =
        [
            "../outside/dotdot.txt",
            $"{label}/../../outside/climb.txt",
            outside + "/absolute.txt",
            $"{label}/link/through-folder-link.txt",
            $"{label}/linkfile",
            "no-such-label/x.txt",
            $"{label}\\..\\..\\outside\\backslash.txt",
            $"{label}/./dot.txt",
        ];
        var content = "pwned\n"u8.ToArray();
        await using var evil = HostileHost.Serve([.. hostile, $"{label}/fine.txt"], content);
        var result = await device.RunAsync("restore", "--host", evil.Address);
        await evil.FinishedAsync();

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("1 restored", result.Stdout);
        Assert.Contains($"{hostile.Length} failed", result.Stdout);
        foreach (var path in hostile)
        {
            Assert.Contains($"failed   {path}: refused", result.Stdout);
        }

        Assert.Equal(["precious.txt"], Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName));
        Assert.Equal("keep me\n", File.ReadAllText(precious));
        Assert.False(File.Exists(Path.Combine(_folder.Path, "dotdot.txt")));
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(device.DataFolder, "fine.txt")));
        Assert.Equal(1, evil.ChunksRequested);
        Assert.Equal(1ul, evil.Done!.Restored);
    }

    [Fact]
    public async Task Restore_keeps_a_newer_device_file_unless_overwrite_and_takes_only_the_paths_asked_for()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "hostA");
        var device = new TestDevice(_folder.Path, "mx7");
        var files = WriteFiles(device.DataFolder);
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        var label = Path.GetFileName(device.DataFolder);
        var inventory = Path.Combine(device.DataFolder, "docs", "inventory.csv");
        File.WriteAllText(inventory, "edited after the backup\n");
        File.SetLastWriteTimeUtc(inventory, DateTime.UtcNow.AddHours(1));
        File.Delete(Path.Combine(device.DataFolder, "scan.log"));
        File.Delete(Path.Combine(device.DataFolder, "docs", "deep", "photo.bin"));

        // Only docs/**: scan.log stays deleted; the newer inventory is kept and reported.
        var partial = await device.RunAsync("restore", "--host", host.Address, "--path", $"{label}/docs/**");
        Assert.True(partial.ExitCode == 0, partial.ToString());
        Assert.Contains($"skipped  {label}/docs/inventory.csv: the device's copy is newer", partial.Stdout);
        Assert.False(File.Exists(Path.Combine(device.DataFolder, "scan.log")));
        Assert.Equal(files["docs/deep/photo.bin"], File.ReadAllBytes(Path.Combine(device.DataFolder, "docs", "deep", "photo.bin")));
        Assert.Equal("edited after the backup\n", File.ReadAllText(inventory));

        var all = await device.RunAsync("restore", "--host", host.Address, "--overwrite");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.DoesNotContain("is newer", all.Stdout);
        Assert.Contains($"restored {label}/docs/inventory.csv", all.Stdout);
        Assert.Contains($"restored {label}/scan.log", all.Stdout);
        // What is on the device as the snapshot has it is left as it is.
        Assert.Contains($"skipped  {label}/docs/deep/photo.bin: already whole", all.Stdout);
        AssertSameFiles(files, device.DataFolder);
    }

    [Fact]
    public async Task A_guest_gets_no_other_device_s_files_and_no_chunk_outside_the_allowed_snapshot()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "hostA");
        var owner = new TestDevice(_folder.Path, "owner");
        Assert.Equal(0, (await owner.InitAsync("OWNER")).ExitCode);
        Assert.Equal(0, (await owner.BackUpOnceAsync(host)).ExitCode);
        var secret = TestData.Bytes(99, 5000);
        var other = new TestDevice(_folder.Path, "other");
        Directory.CreateDirectory(other.DataFolder);
        File.WriteAllBytes(Path.Combine(other.DataFolder, "secret.bin"), secret);
        Assert.Equal(0, (await other.InitAsync("OTHER")).ExitCode);
        Assert.Equal(0, (await other.BackUpOnceAsync(host)).ExitCode);

        // No consent: refused before anything about OWNER's snapshots is told.
        await using (var guest = await HostileClient.ConnectAsync(host.Address))
        {
            await guest.HelloAsync("THIEF");
            await guest.SendAsync(new Cradle.Protocol.Messages.Envelope { GuestRequest = new() });
            Assert.True((await guest.ReceiveAsync()).SessionAccepted.Guest);
            await guest.SendAsync(new Cradle.Protocol.Messages.Envelope { RestoreRequest = new() { SourceDevice = "OWNER" } });
            var refusal = await guest.ReceiveAsync();
            Assert.Equal("consent", refusal.Refusal?.Rule);
        }

        // With consent for OWNER, a chunk of OTHER's file is still out of reach.
        Assert.Equal(0, (await host.RunAsync("host", "allow-restore", "OWNER", "--to", "THIEF")).ExitCode);
        await using (var guest = await HostileClient.ConnectAsync(host.Address))
        {
            await guest.HelloAsync("THIEF");
            await guest.SendAsync(new Cradle.Protocol.Messages.Envelope { GuestRequest = new() });
            await guest.ReceiveAsync();
            await guest.SendAsync(new Cradle.Protocol.Messages.Envelope { RestoreRequest = new() { SourceDevice = "OWNER" } });
            var offer = await guest.ReceiveAsync();
            Assert.Equal("OWNER", offer.RestoreOffer.SourceDevice);
            await guest.ReceiveAsync();
            var foreign = Google.Protobuf.ByteString.CopyFrom(Cradle.Protocol.ChunkId.Of(secret).ToArray());
            await guest.SendAsync(new Cradle.Protocol.Messages.Envelope { ChunkRequest = new() { Ids = { foreign } } });
            var answer = await guest.ReceiveAsync();
            Assert.Equal("protocol", answer.Refusal?.Rule);
            Assert.Contains("not part of the snapshot", answer.Refusal!.Message);
        }
    }

    private static Dictionary<string, byte[]> WriteFiles(string folder)
    {
        Directory.CreateDirectory(Path.Combine(folder, "docs", "deep"));
        var files = new Dictionary<string, byte[]>
        {
            ["scan.log"] = "MX7-01 was here\n"u8.ToArray(),
            ["docs/inventory.csv"] = TestData.Text(40_000),
            ["docs/deep/photo.bin"] = TestData.Bytes(7, 3_000_000),
            ["docs/empty.txt"] = [],
        };
        foreach (var (path, bytes) in files)
        {
            File.WriteAllBytes(Path.Combine(folder, path), bytes);
        }

        return files;
    }

    private static void AssertSameFiles(Dictionary<string, byte[]> expected, string folder)
    {
        foreach (var (path, bytes) in expected)
        {
            var full = Path.Combine(folder, path);
            Assert.True(File.Exists(full), $"{path} was not restored");
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(full)), $"{path} differs");
        }

        Assert.Empty(Directory.EnumerateFiles(folder, ".cradle-restore-*", SearchOption.AllDirectories));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (!file.EndsWith(".sock", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
            }
        }
    }

    private static async Task<List<JsonElement>> DevicesAsync(RunningHost host)
    {
        var result = await host.RunAsync("host", "devices", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    private static async Task<List<JsonElement>> PartnershipsAsync(TestDevice device)
    {
        var result = await device.RunAsync("partnerships", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    public void Dispose() => _folder.Dispose();
}
