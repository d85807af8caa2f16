using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A device's data folders and what it leaves out: <c>cradle device folders</c> lists, adds,
/// removes and sets exclude patterns (per folder and for every folder); cradle.json may name
/// folders and patterns too; <c>init</c> runs again without harm; a backup takes exactly that.
/// </summary>
public sealed class FoldersTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Folders_and_exclude_patterns_are_managed_by_command_and_the_backup_honours_them()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Write(device.DataFolder, "scan.log", "scan");
        Write(device.DataFolder, "scratch.tmp", "temporary");
        Write(device.DataFolder, "cache/page.bin", "cached");
        var forms = _folder["forms"];
        Write(forms, "form-1.xml", "<form/>");
        Write(forms, "drafts/d.xml", "<draft/>");
        Assert.Equal(0, (await device.InitAsync("MX7-20")).ExitCode);

        var added = await device.RunAsync("folders", "add", forms, "--exclude", "drafts/");
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains($"backs up {forms} as forms/, leaving out drafts/", added.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await device.RunAsync("folders", "exclude", "*.tmp", "cache/")).ExitCode);
        var listed = await device.RunAsync("folders");
        Assert.Contains("label", listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("exclude in every folder: *.tmp  cache/", listed.Stdout, StringComparison.Ordinal);
        var json = JsonDocument.Parse((await device.RunAsync("folders", "list", "--json")).Stdout).RootElement;
        Assert.Equal(["data-mx7", "forms"], json.GetProperty("folders").EnumerateArray().Select(f => f.GetProperty("label").GetString()));
        Assert.Equal(["drafts/"], json.GetProperty("folders")[1].GetProperty("exclude").EnumerateArray().Select(p => p.GetString()));

        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        Assert.Equal(["data-mx7/scan.log", "forms/form-1.xml"], await FilesAsync(host, 1));

        // Taken back, then removed: the next backup has the .tmp file and no forms.
        Assert.Equal(0, (await device.RunAsync("folders", "exclude", "*.tmp", "--remove")).ExitCode);
        var removed = await device.RunAsync("folders", "remove", "forms");
        Assert.Contains($"no longer backs up {forms} (forms/)", removed.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        Assert.Equal(["data-mx7/scan.log", "data-mx7/scratch.tmp"], await FilesAsync(host, 2));

        var bad = await device.RunAsync("folders", "exclude", "[oops");
        Assert.True(bad.ExitCode == 2, bad.ToString());
        Assert.Contains("exclude pattern '[oops': a '[' class is not closed with ']'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cradle_json_names_folders_and_patterns_which_stand_in_for_the_state_folders_list()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "depot");
        var device = new TestDevice(_folder.Path, "mx7");
        Write(device.DataFolder, "scan.log", "scan");
        var photos = _folder["photos"];
        Write(photos, "a.jpg", "jpg");
        Write(photos, "a.raw", "raw");
        Write(photos, "thumbs/a.png", "png");
        Assert.Equal(0, (await device.InitAsync("MX7-21")).ExitCode);
        var settings = new System.Text.Json.Nodes.JsonObject
        {
            ["device"] = new System.Text.Json.Nodes.JsonObject
            {
                ["folders"] = new System.Text.Json.Nodes.JsonArray(device.DataFolder, new System.Text.Json.Nodes.JsonObject { ["path"] = photos, ["exclude"] = new System.Text.Json.Nodes.JsonArray("*.raw") }),
                ["exclude"] = new System.Text.Json.Nodes.JsonArray("thumbs/"),
            },
        };
        File.WriteAllText(Path.Combine(device.State, "cradle.json"), settings.ToJsonString());

        var config = await device.RunAsync("config");
        Assert.True(config.ExitCode == 0, config.ToString());
        Assert.Contains($"{photos} (exclude *.raw)", config.Stdout, StringComparison.Ordinal);
        var list = JsonDocument.Parse((await device.RunAsync("folders", "--json")).Stdout).RootElement;
        Assert.Equal(Path.Combine(device.State, "cradle.json"), list.GetProperty("source").GetString());
        var refused = await device.RunAsync("folders", "add", photos);
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("come from", refused.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);
        Assert.Equal(["data-mx7/scan.log", "photos/a.jpg"], await FilesAsync(host, 1));

        File.WriteAllText(Path.Combine(device.State, "cradle.json"), """{ "device": { "folders": [ { "path": "/x", "exlude": [] } ] } }""");
        var typo = await device.RunAsync("config");
        Assert.True(typo.ExitCode == 2, typo.ToString());
        Assert.Contains("'exlude' is not a key of a data folder", typo.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_runs_again_with_the_same_name_and_refuses_another()
    {
        var device = new TestDevice(_folder.Path, "mx7");
        Assert.Equal(0, (await device.InitAsync("MX7-22")).ExitCode);
        var again = await device.RunAsync("init", "--name", "mx7-22", "--folder", device.DataFolder);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("was set up", again.Stdout, StringComparison.Ordinal);
        Assert.Contains("nothing changed", again.Stdout, StringComparison.Ordinal);

        var more = _folder["more"];
        Directory.CreateDirectory(more);
        var added = await device.RunAsync("init", "--name", "MX7-22", "--folder", device.DataFolder, "--folder", more);
        Assert.Contains($"backs up {more} as more/ (new)", added.Stdout, StringComparison.Ordinal);

        var other = await device.RunAsync("init", "--name", "OTHER-1", "--folder", device.DataFolder);
        Assert.True(other.ExitCode == 2, other.ToString());
        Assert.Contains("already holds the device MX7-22", other.Stderr, StringComparison.Ordinal);
        Assert.Equal("MX7-22", (await device.RunAsync("name")).Stdout.Trim());
    }

    private static void Write(string folder, string relative, string content)
    {
        var path = Path.Combine(folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>The files a snapshot holds, by path, from a restore of it.</summary>
    private static async Task<List<string>> FilesAsync(RunningHost host, long snapshot)
    {
        var restored = Path.Combine(host.Data, "..", $"restore-{snapshot}");
        var rows = JsonDocument.Parse((await host.RunAsync("host", "snapshots", "--json")).Stdout).RootElement;
        var device = rows.EnumerateArray().Single(r => r.GetProperty("id").GetInt64() == snapshot).GetProperty("device").GetString()!;
        var restore = await host.RunAsync("host", "restore", "--snapshot", snapshot.ToString(System.Globalization.CultureInfo.InvariantCulture), "--to", restored, device);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        var full = Path.GetFullPath(restored);
        return [.. Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(full, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];
    }
}
