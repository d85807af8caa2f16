using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The secrets doors of the hostile kit against the real <c>cradle</c> processes: old TLS
/// versions, a client with another partnership's key, a host with another key, the modes of
/// the files that hold keys and secrets, Unicode-normalisation twins, and a replayed session.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostileSecretsTests : IDisposable
{
    private static readonly UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// The host enables TLS 1.2 and 1.3 only (<c>Links.Tls</c>). Debian's OpenSSL policy
    /// (<c>/etc/ssl/openssl.cnf</c>: MinProtocol TLSv1.2, SECLEVEL=2) refuses 1.0 and 1.1 by
    /// itself, on both ends, so a plain test could not tell the host's own refusal from the
    /// system's. Here both the host and the client (<c>openssl s_client -tls1_1</c>) run under a
    /// permissive OpenSSL configuration (MinProtocol TLSv1, SECLEVEL=0), as on a machine whose
    /// policy allows old versions: the client offers TLS 1.0/1.1 for real, and the only thing
    /// left to refuse it is the host's setting. Removing it (SslProtocols.None) lets both
    /// versions through (checked by hand: "New, TLSv1.0, Cipher is ECDHE-ECDSA-AES256-SHA").
    /// TLS 1.2 and 1.3 are offered the same way and complete, so the client set-up works.
    /// </summary>
    [Fact]
    public async Task The_host_refuses_a_client_offering_only_TLS_1_0_or_1_1_even_where_the_system_allows_them()
    {
        var permissive = Path.Combine(_folder.Path, "permissive-openssl.cnf");
        File.WriteAllText(permissive, """
            openssl_conf = default_conf
            [default_conf]
            ssl_conf = ssl_sect
            [ssl_sect]
            system_default = system_default_sect
            [system_default_sect]
            MinProtocol = TLSv1
            CipherString = DEFAULT@SECLEVEL=0

            """);
        var environment = new Dictionary<string, string> { ["OPENSSL_CONF"] = permissive };
        await using var host = CradleProcess.StartWith(environment, "host", "run", "--data", Path.Combine(_folder.Path, "host"), "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--name", "tls", "--auto-approve");
        var address = await host.ListeningAddressAsync();

        foreach (var (option, name) in new[] { ("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1") })
        {
            var refusedBefore = Count(Log(host), "unsupported protocol");
            var client = await OpenSslClientAsync(permissive, address, option);
            Assert.True(client.ExitCode != 0, $"{name}: the handshake completed\n{client.Output}");
            Assert.Contains("Cipher is (NONE)", client.Output);

            // Alert 70 (protocol_version) came from the host, and the host logged why.
            Assert.Contains("alert protocol version", client.Output);
            Assert.True(await WaitUntilAsync(() => Count(Log(host), "unsupported protocol") > refusedBefore), $"{name}: the host logged no refusal\n{Log(host)}");
        }

        Assert.Contains("TLS handshake with the device failed", Log(host));
        foreach (var (option, name) in new[] { ("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3") })
        {
            var client = await OpenSslClientAsync(permissive, address, option);
            Assert.True(client.ExitCode == 0, $"{name} was refused\n{client.Output}");
            Assert.Contains($"New, {name}, Cipher is ", client.Output);
        }
    }

    /// <summary>
    /// A device proves its partnership with the secret the host gave it (P2); a client
    /// certificate plays no part (the host asks for none). The realistic forgery is someone who
    /// knows a device's name and number — they are shown on screens and in logs — and holds a
    /// real key, only not that partnership's: here another device's valid secret for the same
    /// host, put into a copy of the victim's state and used by the real device executable.
    /// </summary>
    [Fact]
    public async Task A_device_with_another_partnerships_secret_is_refused_and_nothing_is_stored()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "keys");
        var victim = new TestDevice(_folder.Path, "victim");
        var other = new TestDevice(_folder.Path, "other");
        Assert.Equal(0, (await victim.InitAsync("VICTIM-1")).ExitCode);
        Assert.Equal(0, (await other.InitAsync("OTHER-1")).ExitCode);
        Assert.Equal(0, (await victim.BackUpOnceAsync(host)).ExitCode);
        Assert.Equal(0, (await other.BackUpOnceAsync(host)).ExitCode);

        var forged = new TestDevice(_folder.Path, "forged");
        TempFolder.CopyTree(victim.State, forged.State);
        var partnerships = Path.Combine(forged.State, "volatile", "partnerships.json");
        var otherSecret = JsonNode.Parse(File.ReadAllText(Path.Combine(other.State, "volatile", "partnerships.json")))!["slots"]![0]!["secret"]!.GetValue<string>();
        var file = JsonNode.Parse(File.ReadAllText(partnerships))!;
        Assert.NotEqual(otherSecret, file["slots"]![0]!["secret"]!.GetValue<string>());
        file["slots"]![0]!["secret"] = otherSecret;
        File.WriteAllText(partnerships, file.ToJsonString());
        File.WriteAllText(Path.Combine(victim.DataFolder, "new.txt"), "written after the first backup\n");

        var before = await SnapshotsAsync(host);
        var attempt = await forged.BackUpOnceAsync(host);

        Assert.True(attempt.ExitCode != 0, attempt.ToString());
        Assert.True(attempt.ExitCode == 3, attempt.ToString());
        Assert.Contains("did not prove the secret of partnership", attempt.Stderr, StringComparison.Ordinal);
        Assert.True(await host.Process.WaitForOutputAsync("refused VICTIM-1: auth", TimeSpan.FromSeconds(10)), Log(host.Process));
        Assert.Equal(before.Count, (await SnapshotsAsync(host)).Count);

        // The victim itself still backs up, with its own secret.
        Assert.Equal(0, (await victim.BackUpOnceAsync(host)).ExitCode);
        Assert.Equal(before.Count + 1, (await SnapshotsAsync(host)).Count);
    }

    /// <summary>
    /// The device pins the host's certificate when it partners (P2). The host's folder is moved
    /// to a host with another key (the certificate in its catalog replaced; same name, same host
    /// id, same partnerships): the device refuses it before it proves anything, and nothing is stored.
    /// Putting the original key back lets the same device back up again, so the refusal was the
    /// key's. Without the pin check the device would authenticate (its proof binds the
    /// certificate it saw, which the impostor checks against its own) and back up.
    /// </summary>
    [Fact]
    public async Task A_host_with_another_key_is_refused_by_the_device_before_any_proof_is_sent()
    {
        var data = Path.Combine(_folder.Path, "host-pinned");
        var device = new TestDevice(_folder.Path, "pinning");
        Assert.Equal(0, (await device.InitAsync("PINNING-1")).ExitCode);
        await using (var original = await RunningHost.StartOnAsync(data, "pinned"))
        {
            Assert.Equal(0, (await device.BackUpOnceAsync(original)).ExitCode);
        }

        var originalKey = CatalogCertificate(data);
        SetCatalogCertificate(data, null); // the next start makes another key
        File.WriteAllText(Path.Combine(device.DataFolder, "new.txt"), "written after the first backup\n");
        await using (var impostor = await RunningHost.StartOnAsync(data, "pinned"))
        {
            Assert.NotEqual(originalKey, CatalogCertificate(data));
            var attempt = await device.BackUpOnceAsync(impostor);

            Assert.True(attempt.ExitCode != 0, attempt.ToString());
            Assert.Contains("different certificate", attempt.Stdout + attempt.Stderr);
            Assert.Single(await SnapshotsAsync(impostor));
            Assert.DoesNotContain("PINNING-1 connected", Log(impostor.Process));
        }

        SetCatalogCertificate(data, originalKey);
        await using var again = await RunningHost.StartOnAsync(data, "pinned");
        var result = await device.BackUpOnceAsync(again);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, (await SnapshotsAsync(again)).Count);
    }

    /// <summary>
    /// After a real host run and a real device init and backup, every file that holds a key or
    /// a secret is its owner's only (0600), and every folder Cradle makes for them 0700: on the
    /// host the certificate with its private key, the catalog with the partnership secrets (and
    /// its WAL files), the dashboard token when there is one (a dashboard bound beyond loopback;
    /// row 64 tests it); on the device every state file (the recovery key in device.json, the
    /// partnership secrets in partnerships.json, the files cache). Twice: with the host's and the
    /// device's folders made by Cradle (0700), and with both made beforehand open to all (0755, as
    /// a package or an administrator may make /var/lib/cradle): Cradle leaves such a folder as it
    /// is, so there only the files' own modes keep the secrets in. The test's umask must be one
    /// that would leave files readable by others, or the check would prove nothing.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Keys_and_secrets_are_owner_only_on_the_host_and_on_the_device(bool foldersMadeOpenBeforehand)
    {
        var umask = Convert.ToInt32(File.ReadLines("/proc/self/status").Single(l => l.StartsWith("Umask:", StringComparison.Ordinal))["Umask:".Length..].Trim(), 8);
        Assert.True((umask & 0b000_100_100) != 0b000_100_100, $"the umask {Convert.ToString(umask, 8)} hides every new file from others already: the test would prove nothing");

        var device = new TestDevice(_folder.Path, "modes");
        var hostData = Path.Combine(_folder.Path, "host-modes");
        if (foldersMadeOpenBeforehand)
        {
            var open = OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            Directory.CreateDirectory(hostData, open);
            Directory.CreateDirectory(device.State, open);
        }

        await using var host = await RunningHost.StartOnAsync(hostData, "modes");
        Assert.Equal(0, (await device.InitAsync("MODES-1")).ExitCode);
        Assert.Equal(0, (await device.BackUpOnceAsync(host)).ExitCode);

        // The certificate's key is in the catalog (meta host_certificate), with the partnership secrets.
        var hostFiles = new[] { "cradle.db", "cradle.db-wal", "cradle.db-shm", "http-token" }
            .Select(name => Path.Combine(host.Data, name)).Where(File.Exists).ToList();
        Assert.NotNull(CatalogCertificate(host.Data));
        Assert.Contains(Path.Combine(host.Data, "cradle.db"), hostFiles);
        var deviceFiles = Directory.GetFiles(device.State, "*", SearchOption.AllDirectories);
        foreach (var expected in new[] { "persistent/device.json", "volatile/partnerships.json", "volatile/files.cache" })
        {
            Assert.Contains(Path.Combine(device.State, expected), deviceFiles);
        }

        var wrong = new List<string>();
        foreach (var file in hostFiles.Concat(deviceFiles))
        {
            if (File.GetUnixFileMode(file) != OwnerOnlyFile)
            {
                wrong.Add($"{file}: {Mode(file)}");
            }
        }

        var madeByCradle = Directory.GetDirectories(device.State, "*", SearchOption.AllDirectories).ToList();
        if (!foldersMadeOpenBeforehand)
        {
            madeByCradle.AddRange([device.State, host.Data]);
        }

        foreach (var folder in madeByCradle)
        {
            if (File.GetUnixFileMode(folder) != OwnerOnlyFolder)
            {
                wrong.Add($"{folder}/: {Mode(folder)}");
            }
        }

        Assert.True(wrong.Count == 0, "not owner-only:\n" + string.Join('\n', wrong));
    }

    /// <summary>
    /// Two files whose names differ only by Unicode normalisation — "café" with U+00E9 (NFC) and
    /// with "e" + U+0301 (NFD) — are different names to Linux, as to the device that had them.
    /// Cradle keeps paths as the exact strings it is sent (as it keeps names that differ only by
    /// case): both are stored, listed and restored as two files, each with its own content; the
    /// host never merges them so that one would overwrite the other. (On a file system that
    /// normalises names, macOS's, the two would be one name: that is the restoring side's
    /// matter; the host keeps both.)
    /// </summary>
    [Fact]
    public async Task Names_that_differ_only_by_Unicode_normalisation_are_kept_and_restored_as_two_files()
    {
        var composed = "data/caf\u00e9.txt";
        var decomposed = "data/cafe\u0301.txt";
        Assert.Equal("63-61-66-C3-A9", BitConverter.ToString(Encoding.UTF8.GetBytes("caf\u00e9")));
        Assert.Equal("63-61-66-65-CC-81", BitConverter.ToString(Encoding.UTF8.GetBytes("cafe\u0301")));

        await using var host = await RunningHost.StartAsync(_folder.Path, "twins");
        await using (var client = await HostileClient.ConnectAsync(host.Address))
        {
            await client.PartnerAsync("TWINS-1", 0x7E1A_0301);
            var reply = await BackUpAsync(client, (composed, "composed: U+00E9\n"u8.ToArray()), (decomposed, "decomposed: e + U+0301\n"u8.ToArray()));
            Assert.True(reply.BodyCase == Envelope.BodyOneofCase.BackupCommitted, reply.ToString());
        }

        var snapshot = Assert.Single(await SnapshotsAsync(host));
        Assert.Equal(2, snapshot.GetProperty("files").GetInt32());
        var target = Path.Combine(_folder.Path, "restored");
        var restore = await host.RunAsync("host", "restore", "TWINS-1", "--to", target);
        Assert.True(restore.ExitCode == 0, restore.ToString());

        var names = Directory.GetFiles(Path.Combine(target, "data")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["cafe\u0301.txt", "caf\u00e9.txt"], names);
        Assert.Equal("composed: U+00E9\n", File.ReadAllText(Path.Combine(target, composed)));
        Assert.Equal("decomposed: e + U+0301\n", File.ReadAllText(Path.Combine(target, decomposed)));
    }

    /// <summary>
    /// Every byte a real device sent in a real session (recorded by a relay in front of the
    /// host) is replayed to the host on a new connection. TLS gives the host's side of the new
    /// handshake fresh randomness and a fresh key share, so the recorded Finished and records
    /// no longer decrypt: the host ends the session at the handshake, says why in its log, and
    /// stores nothing. (Past TLS, the fresh challenge would refuse a replayed proof: row 35.)
    /// </summary>
    [Fact]
    public async Task A_replayed_session_transcript_fails_at_the_TLS_handshake_and_stores_nothing()
    {
        await using var host = await RunningHost.StartAsync(_folder.Path, "replay");
        var device = new TestDevice(_folder.Path, "replayed");
        Assert.Equal(0, (await device.InitAsync("REPLAYED-1")).ExitCode);
        var payload = new byte[64 * 1024];
        Random.Shared.NextBytes(payload);
        File.WriteAllBytes(Path.Combine(device.DataFolder, "scan.bin"), payload);

        byte[] transcript;
        await using (var recorder = RecordingRelay.Start(host.Address))
        {
            var first = await device.RunAsync("connect", "--host", recorder.Address, "--once");
            Assert.True(first.ExitCode == 0, first.ToString());
            transcript = await recorder.DeviceBytesAsync();
        }

        // The transcript is the whole session: the file went through it (encrypted).
        Assert.True(transcript.Length > payload.Length, $"recorded only {transcript.Length} bytes");
        var before = await SnapshotsAsync(host);
        Assert.Single(before);
        var failedBefore = Count(Log(host.Process), "TLS handshake with the device failed");
        var mentionsBefore = Count(Log(host.Process), "REPLAYED-1");

        using (var replay = new TcpClient())
        {
            await replay.ConnectAsync(IPEndPoint.Parse(host.Address));
            var stream = replay.GetStream();
            await stream.WriteAsync(transcript);
            await stream.FlushAsync();
            var answered = await DrainAsync(stream);
            Assert.True(answered > 0, "the host sent nothing back: it did not even start the handshake");
        }

        Assert.True(await WaitUntilAsync(() => Count(Log(host.Process), "TLS handshake with the device failed") > failedBefore), Log(host.Process));
        Assert.Contains("bad record mac", Log(host.Process));
        Assert.Equal(before.Count, (await SnapshotsAsync(host)).Count);

        // The replay never got as far as a hello: the host's log names the device no more often than before.
        Assert.Equal(mentionsBefore, Count(Log(host.Process), "REPLAYED-1"));
    }

    private static async Task<Envelope> BackUpAsync(HostileClient client, params (string Path, byte[] Content)[] files)
    {
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var query = new ChunkQuery { QueryId = 1 };
        foreach (var (_, content) in files)
        {
            query.Ids.Add(ByteString.CopyFrom(ChunkId.Of(content).ToArray()));
        }

        await client.SendAsync(new Envelope { ChunkQuery = query });
        var answer = await client.ReceiveAsync();
        Assert.True(answer.BodyCase == Envelope.BodyOneofCase.ChunkAnswer, answer.ToString());
        Assert.Equal(files.Length, answer.ChunkAnswer.Missing.Count);
        var entries = new FileEntries();
        foreach (var (path, content) in files)
        {
            var id = ByteString.CopyFrom(ChunkId.Of(content).ToArray());
            await client.SendAsync(new Envelope { ChunkData = new ChunkData { Id = id, RawLength = (uint)content.Length, Data = ByteString.CopyFrom(content) } });
            entries.Entries.Add(new FileEntry { Path = path, Size = (ulong)content.Length, MtimeUnixNs = 1_000_000_000, ChunkIds = { id } });
        }

        await client.SendAsync(new Envelope { FileEntries = entries });
        await client.SendAsync(new Envelope { BackupEnd = new BackupEnd { Files = (ulong)files.Length, Bytes = (ulong)files.Sum(f => f.Content.Length) } });
        return await client.ReceiveAsync();
    }

    private static async Task<List<JsonElement>> SnapshotsAsync(RunningHost host)
    {
        var result = await host.RunAsync("host", "snapshots", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    private static async Task<(int ExitCode, string Output)> OpenSslClientAsync(string configuration, string address, string version)
    {
        var info = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "s_client", "-connect", address, version, "-cipher", "DEFAULT@SECLEVEL=0" })
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["OPENSSL_CONF"] = configuration;
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Reads until the host closes the connection (or resets it); returns the bytes it sent.</summary>
    private static async Task<long> DrainAsync(NetworkStream stream)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                total += read;
            }
        }
        catch (IOException)
        {
            // Reset by the host: the connection is over either way.
        }

        return total;
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string Log(CradleProcess process) => process.Stdout + process.Stderr;

    private static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);

    /// <summary>A relay on 127.0.0.1 in front of a host that records what the device sends through one connection.</summary>
    private sealed class RecordingRelay : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly MemoryStream _deviceBytes = new();
        private readonly Task _relaying;

        private RecordingRelay(IPEndPoint host)
        {
            _listener.Start();
            Address = _listener.LocalEndpoint.ToString()!;
            _relaying = RelayAsync(host);
        }

        public string Address { get; }

        public static RecordingRelay Start(string host) => new(IPEndPoint.Parse(host));

        /// <summary>Waits for the one connection to end, and returns every byte the device sent through it.</summary>
        public async Task<byte[]> DeviceBytesAsync()
        {
            await _relaying.WaitAsync(TimeSpan.FromSeconds(60));
            return _deviceBytes.ToArray();
        }

        private async Task RelayAsync(IPEndPoint target)
        {
            using var device = await _listener.AcceptTcpClientAsync();
            using var host = new TcpClient();
            await host.ConnectAsync(target);
            await Task.WhenAll(PumpAsync(device.GetStream(), host, _deviceBytes), PumpAsync(host.GetStream(), device, null));
        }

        private static async Task PumpAsync(NetworkStream from, TcpClient to, MemoryStream? record)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await from.ReadAsync(buffer)) > 0)
                {
                    record?.Write(buffer, 0, read);
                    await to.GetStream().WriteAsync(buffer.AsMemory(0, read));
                }

                to.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // One side went away: the session is over, and what was recorded is kept.
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _relaying.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or TimeoutException or IOException)
            {
                // Never connected or cut short: the test already has what it asserted.
            }

            _listener.Dispose();
        }
    }

    /// <summary>The host's certificate and key as its SQLite catalog keeps them (meta host_certificate), or null.</summary>
    private static string? CatalogCertificate(string hostData)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(hostData, "cradle.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'host_certificate'";
        return command.ExecuteScalar() as string;
    }

    /// <summary>Puts a certificate back in the catalog, or removes it (null) so the next start makes another.</summary>
    private static void SetCatalogCertificate(string hostData, string? value)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(hostData, "cradle.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = value is null ? "DELETE FROM meta WHERE key = 'host_certificate'" : "UPDATE meta SET value = @v WHERE key = 'host_certificate'";
        command.Parameters.AddWithValue("@v", value ?? "");
        Assert.Equal(1, command.ExecuteNonQuery());
    }
}
