using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The seed manual's story, end to end with the real executable: two hosts, a device, a cold
/// boot, the rename the host insists on, and what the rename destroys (P3, P5, P6, P7, P8).
/// </summary>
public sealed class ManualStoryTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Cold_boot_rename_trap_and_the_rules_that_make_it_P3_P4_P5_P6_P7_P8()
    {
        await using var hostA = await RunningHost.StartAsync(_folder.Path, "hostA");
        await using var hostB = await RunningHost.StartAsync(_folder.Path, "hostB");
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-01")).ExitCode);

        // Partner with A, then with B (the last one made).
        var toA = await device.BackUpOnceAsync(hostA);
        Assert.True(toA.ExitCode == 0, toA.ToString());
        var toB = await device.BackUpOnceAsync(hostB);
        Assert.True(toB.ExitCode == 0, toB.ToString());
        var slots = await PartnershipsAsync(device);
        Assert.Equal(["hostA", "hostB"], slots.Select(s => s.GetProperty("host").GetString()));

        // P6: a cold boot loses the newest partnership (B); A survives, and so does the name.
        var boot = await device.RunAsync("cold-boot", "--yes");
        Assert.Contains("hostB", boot.Stdout);
        Assert.Equal(["hostA"], (await PartnershipsAsync(device)).Select(s => s.GetProperty("host").GetString()));
        Assert.Equal("MX7-01", (await device.RunAsync("name")).Stdout.Trim());

        // A still works: the surviving partnership authenticates.
        Assert.Equal(0, (await device.BackUpOnceAsync(hostA)).ExitCode);

        // P7 through P5: reconnecting to B makes a new number, and B insists on a rename.
        var refused = await device.BackUpOnceAsync(hostB);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("a name partners with a host only once", refused.Stderr);
        Assert.Contains("rename", refused.Stderr);

        // P8: the rename ends the partnership with A as well.
        var rename = await device.RunAsync("name", "MX7-02", "--yes");
        Assert.Equal(0, rename.ExitCode);
        Assert.Contains("hostA", rename.Stdout);
        Assert.Contains("a partnership is defined by the name", rename.Stdout);
        Assert.Empty(await PartnershipsAsync(device));

        // Under the new name both hosts take the device again.
        Assert.Equal(0, (await device.BackUpOnceAsync(hostB)).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(hostA)).ExitCode);

        // P4: host A keeps the record and backups of the old name as well as the new one.
        var devices = JsonDocument.Parse((await hostA.RunAsync("host", "devices", "--json")).Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(["MX7-01", "MX7-02"], devices.Select(d => d.GetProperty("name").GetString()).Order());
        var old = devices.Single(d => d.GetProperty("name").GetString() == "MX7-01");
        // Its second backup to A found nothing changed: the first snapshot, verified then.
        Assert.Equal(1, old.GetProperty("snapshots").GetInt32());
        Assert.Equal(JsonValueKind.String, old.GetProperty("lastVerified").ValueKind);
        Assert.True(old.GetProperty("number").GetUInt32() > 0);

        // P5: a second device with the first one's (old) name is refused by A.
        var twin = new TestDevice(_folder.Path, "twin");
        Assert.Equal(0, (await twin.InitAsync("mx7-01")).ExitCode);
        // With --json the refusal is an object on stderr, and names the rule for scripts.
        var twinRefused = await twin.RunAsync("connect", "--host", hostA.Address, "--once", "--json");
        Assert.Equal(3, twinRefused.ExitCode);
        var twinError = JsonDocument.Parse(twinRefused.Stderr).RootElement;
        Assert.Equal(("P5", "refused", 3), (twinError.GetProperty("rule").GetString(), twinError.GetProperty("kind").GetString(), twinError.GetProperty("exitCode").GetInt32()));
        Assert.Contains("a name partners with a host only once", twinError.GetProperty("error").GetString(), StringComparison.Ordinal);

        // P3: a device holding two partnerships is refused by a third host.
        await using var hostC = await RunningHost.StartAsync(_folder.Path, "hostC");
        var third = await device.BackUpOnceAsync(hostC);
        Assert.Equal(3, third.ExitCode);
        Assert.Contains("the most a device may hold", third.Stderr);
        var cDevices = (await hostC.RunAsync("host", "devices", "--json")).Stdout;
        Assert.Empty(JsonDocument.Parse(cDevices).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task A_name_breaking_P1_is_refused_with_the_reason()
    {
        var device = new TestDevice(_folder.Path, "bad");
        var result = await device.InitAsync("9-lives");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("1-15 characters", result.Stderr);
        Assert.Contains("start with a letter", result.Stderr.Replace("does not start", "start", StringComparison.Ordinal));

        Assert.Equal(0, (await device.InitAsync("Good-Name")).ExitCode);
        var rename = await device.RunAsync("name", "this-name-is-far-too-long");
        Assert.Equal(2, rename.ExitCode);
        Assert.Contains("1-15 characters", rename.Stderr);
        Assert.Equal("Good-Name", (await device.RunAsync("name")).Stdout.Trim());
    }

    private static async Task<List<JsonElement>> PartnershipsAsync(TestDevice device)
    {
        var result = await device.RunAsync("partnerships", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    public void Dispose() => _folder.Dispose();
}
