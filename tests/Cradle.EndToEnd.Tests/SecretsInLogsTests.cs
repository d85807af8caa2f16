using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A full session logged at debug level on both sides, to the console and to the rolling files:
/// the partnership secret, the device's recovery key and the host's private key appear nowhere.
/// </summary>
public sealed class SecretsInLogsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task No_secret_reaches_a_debug_log()
    {
        var data = Path.Combine(_folder.Path, "host");
        await using var host = await RunningHost.StartOnAsync(data, "loghost", extra: ["--verbose", "--log-file", "logs/cradle.log"]);
        var device = new TestDevice(_folder.Path, "dev");
        Assert.Equal(0, (await device.InitAsync("MX7-LOG")).ExitCode);

        await using (var agent = device.StartConnect(null, "--host", host.Address, "--verbose", "--log-file", "logs/cradle.log"))
        {
            Assert.True(await agent.WaitForOutputAsync("backed up", TimeSpan.FromSeconds(60)), agent.Stdout + agent.Stderr);
            Assert.Equal(0, (await device.RunAsync("disconnect")).ExitCode);
            Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            var once = await device.RunAsync("connect", "--host", host.Address, "--once");
            Assert.True(once.ExitCode == 0, once.ToString());
            Logs.Add(("device connect", agent.Stdout + agent.Stderr));
            Logs.Add(("device connect --once", once.Stdout + once.Stderr));
        }

        host.Process.Interrupt();
        Assert.Equal(0, await host.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Logs.Add(("host console", host.Process.Stdout + host.Process.Stderr));
        var hostFile = File.ReadAllText(Path.Combine(data, "logs", "cradle.log"));
        var deviceFile = File.ReadAllText(Path.Combine(device.State, "logs", "cradle.log"));
        Logs.Add(("host log file", hostFile));
        Logs.Add(("device log file", deviceFile));

        // The logs are there and at debug level, so that finding no secret in them means something.
        Assert.Contains("dbug", host.Process.Stdout + host.Process.Stderr);
        Assert.Contains("[1002] ", hostFile);
        Assert.Contains("[1005] ", hostFile);
        // The device engine's own events (issue 21; 21xx): connecting, connected, the partnership, the commit.
        foreach (var id in new[] { 2100, 2101, 2110, 2112 })
        {
            Assert.Contains($"[{id}] ", deviceFile);
        }

        var secrets = Secrets(data, device.State);
        Assert.True(secrets.Count >= 8, $"found {secrets.Count} secret forms");
        foreach (var (where, text) in Logs)
        {
            foreach (var (what, form) in secrets)
            {
                Assert.False(text.Contains(form, StringComparison.OrdinalIgnoreCase), $"the {what} appears in the {where}");
            }
        }
    }

    private List<(string Where, string Text)> Logs { get; } = [];

    /// <summary>Every secret the two folders hold, in the forms a careless log line could print it: base64 and hex.</summary>
    private static List<(string What, string Form)> Secrets(string hostFolder, string stateFolder)
    {
        var found = new List<(string, byte[])>();
        byte[] der;
        using (var partnerships = JsonDocument.Parse(File.ReadAllText(Path.Combine(stateFolder, "volatile", "partnerships.json"))))
        {
            foreach (var slot in partnerships.RootElement.GetProperty("slots").EnumerateArray())
            {
                found.Add(("partnership secret", Convert.FromBase64String(slot.GetProperty("secret").GetString()!)));
            }
        }

        using (var identity = JsonDocument.Parse(File.ReadAllText(Path.Combine(stateFolder, "persistent", "device.json"))))
        {
            found.Add(("recovery key", Convert.FromBase64String(identity.RootElement.GetProperty("recoveryKey").GetString()!)));
        }

        using (var certificate = X509CertificateLoader.LoadPkcs12(HostCertificateIn(hostFolder), null, X509KeyStorageFlags.EphemeralKeySet))
        using (var key = certificate.GetECDsaPrivateKey()!)
        {
            found.Add(("host private key", key.ExportParameters(includePrivateParameters: true).D!));
            der = key.ExportECPrivateKey();
        }

        Assert.Contains(found, f => f.Item1 == "partnership secret");
        return [.. found.SelectMany(f => new[]
        {
            (f.Item1, Convert.ToBase64String(f.Item2)),
            (f.Item1, Convert.ToHexString(f.Item2)),
            (f.Item1, Convert.ToBase64String(f.Item2)[..16]),
            (f.Item1, Convert.ToHexString(f.Item2)[..16]),
        }), ("host private key (DER)", Convert.ToBase64String(der)), ("host private key (DER)", Convert.ToHexString(der))];
    }

    /// <summary>The host's certificate and key as the catalog keeps them (meta host_certificate, PKCS#12 in base64).</summary>
    private static byte[] HostCertificateIn(string hostFolder)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(hostFolder, "cradle.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'host_certificate'";
        return Convert.FromBase64String((string)command.ExecuteScalar()!);
    }
}
