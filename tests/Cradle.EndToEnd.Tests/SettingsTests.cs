using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Settings of the real executable: the folder's cradle.json, CRADLE_… variables and flags, in
/// that order of strength; bad values stop the program naming the key, the value and what is allowed.
/// </summary>
public sealed class SettingsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Host_config_shows_each_value_and_where_it_came_from_flag_over_environment_over_file_over_default()
    {
        var data = HostFolder("""{ "host": { "listen": "127.0.0.1:6001", "name": "from-file", "keepaliveTimeout": 20, "serial": ["/dev/ttyS0@9600", "/dev/ttyS1"] } }""");
        var env = new Dictionary<string, string> { ["CRADLE_HOST__NAME"] = "from-env", ["CRADLE_HOST__KEEPALIVETIMEOUT"] = "30" };

        var result = await CradleProcess.RunWithAsync(env, "host", "config", "--data", data, "--name", "from-flag", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var settings = Settings(result.Stdout);
        Assert.Equal(("from-flag", "--name"), settings["host:name"]);
        Assert.Equal(("30", "CRADLE_HOST__KEEPALIVETIMEOUT"), settings["host:keepaliveTimeout"]);
        Assert.Equal(("127.0.0.1:6001", Path.Combine(data, "cradle.json")), settings["host:listen"]);
        Assert.Equal(("/dev/ttyS0@9600,/dev/ttyS1", Path.Combine(data, "cradle.json")), settings["host:serial"]);
        Assert.Equal(("false", "default"), settings["host:autoApprove"]);
        Assert.Equal(("information", "default"), settings["host:logLevel"]);
    }

    [Theory]
    [InlineData("""{ "host": { "keepaliveTimeout": "soon" } }""", null, "host:keepaliveTimeout = 'soon'", "give 1 to 3600 seconds")]
    [InlineData("""{ "host": { "listen": "127.0.0.1:99999" } }""", null, "host:listen = '127.0.0.1:99999'", "give ADDR:PORT")]
    [InlineData("""{ "host": { "serial": ["/dev/ttyS0@7"] } }""", null, "host:serial = '/dev/ttyS0@7'", "rates 50 to 4000000")]
    [InlineData("""{ "host": { "lisen": "0.0.0.0:5679" } }""", null, "host:lisen is not a setting", "the keys are listen")]
    [InlineData("""{ "host": { "listen": """, null, "not valid JSON", "cradle.json")]
    [InlineData(null, "CRADLE_HOST__AUTOAPPROVE=maybe", "CRADLE_HOST__AUTOAPPROVE: host:autoApprove = 'maybe'", "give true or false")]
    [InlineData(null, "CRADLE_HOST__LOGLEVEL=loud", "CRADLE_HOST__LOGLEVEL: host:logLevel = 'loud'", "give one of trace, debug, information, warning, error")]
    [InlineData(null, "CRADLE_HOST__HTTP=depot-pc:80", "CRADLE_HOST__HTTP: host:http = 'depot-pc:80'", "or 'off'")]
    [InlineData("""{ "host": { "overdueAfter": 0 } }""", null, "host:overdueAfter = '0'", "to 8784 hours")]
    [InlineData("""{ "host": { "packs": "s3://depot-packs?endpoint=ftp://127.0.0.1:21" } }""", null, "host:packs = 's3://depot-packs?endpoint=ftp://127.0.0.1:21'", "give a folder or s3://BUCKET")]
    [InlineData(null, "CRADLE_HOST__PACKS=s3://x", "CRADLE_HOST__PACKS: host:packs = 's3://x'", "give a folder or s3://BUCKET")]
    public async Task A_bad_setting_stops_host_run_before_it_listens_naming_key_value_and_what_is_allowed(string? file, string? variable, string names, string allowed)
    {
        var data = HostFolder(file);
        var env = variable is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [variable.Split('=')[0]] = variable.Split('=')[1] };

        var result = await CradleProcess.RunWithAsync(env, "host", "run", "--data", data);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(names, result.Stderr);
        Assert.Contains(allowed, result.Stderr);
        if (file is not null)
        {
            Assert.Contains(Path.Combine(data, "cradle.json"), result.Stderr);
        }

        Assert.DoesNotContain("listening on", result.Stdout);
    }

    [Fact]
    public async Task A_bad_flag_value_is_reported_with_its_flag()
    {
        var result = await CradleProcess.RunAsync("host", "config", "--data", HostFolder(null), "--keepalive-timeout", "0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--keepalive-timeout: host:keepaliveTimeout = '0' is not allowed: give 1 to 3600 seconds", result.Stderr);
    }

    [Fact]
    public async Task Host_run_and_device_connect_run_from_their_files_alone()
    {
        var data = HostFolder("""{ "host": { "listen": "127.0.0.1:0", "name": "filehost", "autoApprove": true } }""");
        await using var host = CradleProcess.Start("host", "run", "--data", data);
        var address = await host.ListeningAddressAsync();
        Assert.Contains("cradle host filehost", host.Stdout);

        var device = new TestDevice(_folder.Path, "dev");
        Assert.Equal(0, (await device.InitAsync("MX7-CONF")).ExitCode);
        File.WriteAllText(Path.Combine(device.State, "cradle.json"), $$"""{ "device": { "host": "{{address}}", "once": true } }""");

        var backup = await device.RunAsync("connect");

        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Contains("committed on filehost", backup.Stdout);
    }

    [Fact]
    public async Task Device_config_takes_the_state_folder_from_the_environment_and_the_link_from_its_file()
    {
        var device = new TestDevice(_folder.Path, "env");
        Directory.CreateDirectory(device.State);
        File.WriteAllText(Path.Combine(device.State, "cradle.json"), """{ "device": { "usb": "usb0", "interval": 30 } }""");

        var result = await CradleProcess.RunWithAsync(new Dictionary<string, string> { ["CRADLE_DEVICE__STATE"] = device.State }, "device", "config", "--json", "--baud", "9600");

        Assert.True(result.ExitCode == 0, result.ToString());
        var settings = Settings(result.Stdout);
        Assert.Equal((Path.GetFullPath(device.State), "CRADLE_DEVICE__STATE"), settings["device:state"]);
        Assert.Equal(("usb0", Path.Combine(Path.GetFullPath(device.State), "cradle.json")), settings["device:usb"]);
        Assert.Equal(("30", Path.Combine(Path.GetFullPath(device.State), "cradle.json")), settings["device:interval"]);
        Assert.Equal(("9600", "--baud"), settings["device:baud"]);
    }

    private string HostFolder(string? file)
    {
        var data = Path.Combine(_folder.Path, "host-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(data);
        if (file is not null)
        {
            File.WriteAllText(Path.Combine(data, "cradle.json"), file);
        }

        return data;
    }

    private static Dictionary<string, (string Value, string Source)> Settings(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("settings").EnumerateArray().ToDictionary(
            s => s.GetProperty("key").GetString()!,
            s => (s.TryGetProperty("values", out var list)
                    ? string.Join(',', list.EnumerateArray().Select(v => v.GetString()))
                    : s.TryGetProperty("value", out var one) ? one.GetString()! : "",
                s.GetProperty("source").GetString()!));
    }
}
