using System.Text.Json;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The hostile-host kit against the real <c>cradle device</c> (issue 19): a host that lies in its
/// hello, its codes, its counts and its chunks, that inflates, or that takes a pinned host's id
/// with another certificate. Each time the device says what was wrong, exits with the matching
/// code, writes nothing under a real name and sends nothing it should not.
/// </summary>
public sealed class HostileHostTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_chunk_that_does_not_match_its_hash_stops_the_restore_and_nothing_is_left_under_its_name()
    {
        var device = await DeviceAsync("hash");
        var label = Path.GetFileName(device.DataFolder);
        var good = "a good file\n"u8.ToArray();
        var claimed = "what the file should hold\n"u8.ToArray();
        await using var evil = HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel);
            await host.AcceptGuestAsync(channel);
            await host.OfferAsync(channel, [Entry($"{label}/good.txt", good), Entry($"{label}/forged.txt", claimed)]);
            await host.ServeChunksAsync(channel, id => ChunkId.Read(id.Span) == ChunkId.Of(good)
                ? Raw(good)
                : Raw("what the host sends instead\n"u8.ToArray()));
        });

        var result = await device.RunAsync("restore", "--host", evil.Address);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("does not match its hash", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(device.DataFolder, "forged.txt")));
        Assert.Empty(Directory.EnumerateFiles(device.DataFolder, ".cradle-restore-*"));
        // The device tells the host why it stopped (the host then checks its store and names the pack).
        await evil.FinishedAsync();
        Assert.Contains("restore stopped: chunk", evil.Left, StringComparison.Ordinal);
        Assert.Contains("does not match its hash", evil.Left, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zstd_bomb_is_refused_without_inflating_and_a_claimed_4_GB_chunk_before_any_allocation()
    {
        var device = await DeviceAsync("bomb");
        var label = Path.GetFileName(device.DataFolder);
        // 64 MiB of zeros in a few kilobytes, claiming to be a 1 MiB chunk.
        byte[] bomb;
        using (var compressor = new ZstdSharp.Compressor(3))
        {
            bomb = compressor.Wrap(new byte[64 * 1024 * 1024]).ToArray();
        }

        Assert.InRange(bomb.Length, 1, 64 * 1024);
        foreach (var (claim, why) in new[] { (1024u * 1024, "decompress"), (4_000_000_000u, "claims 4000000000 bytes") })
        {
            await using var evil = HostileHost.Start(async (host, channel) =>
            {
                await host.GreetAsync(channel);
                await host.AcceptGuestAsync(channel);
                await host.OfferAsync(channel, [new FileEntry { Path = $"{label}/bomb.bin", Size = claim, MtimeUnixNs = 1, ChunkIds = { ByteString.CopyFrom(RandomIds(1)[0]) } }]);
                await host.ServeChunksAsync(channel, _ => new ChunkData { Compression = Compression.Zstd, RawLength = claim, Data = ByteString.CopyFrom(bomb) });
            });

            var result = await device.RunAsync("restore", "--host", evil.Address);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains(why, result.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(device.DataFolder, "bomb.bin")));
        }
    }

    [Fact]
    public async Task Lying_counts_and_sizes_are_refused_and_nothing_is_written()
    {
        var device = await DeviceAsync("counts");
        var label = Path.GetFileName(device.DataFolder);
        var content = "ten bytes\n"u8.ToArray();

        // More entries than the offer said.
        await using (var evil = HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel);
            await host.AcceptGuestAsync(channel);
            await host.OfferAsync(channel, [Entry($"{label}/a.txt", content), Entry($"{label}/b.txt", content), Entry($"{label}/c.txt", content)], offered: 1);
            await host.ReceiveAsync(channel);
        }))
        {
            var more = await device.RunAsync("restore", "--host", evil.Address);
            Assert.True(more.ExitCode == 1, more.ToString());
            Assert.Contains("more entries than the 1 it offered", more.Stderr, StringComparison.Ordinal);
        }

        // A file whose size is not what its chunks hold.
        await using (var evil = HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel);
            await host.AcceptGuestAsync(channel);
            var entry = Entry($"{label}/big.txt", content);
            entry.Size = 1_000_000;
            await host.OfferAsync(channel, [entry]);
            await host.ServeChunksAsync(channel, _ => Raw(content));
        }))
        {
            var size = await device.RunAsync("restore", "--host", evil.Address);
            Assert.True(size.ExitCode == 1, size.ToString());
            Assert.Contains("the host's chunks make 10 bytes, its entry says 1000000", size.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(["scan.log"], Directory.EnumerateFileSystemEntries(device.DataFolder).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("short-id", 1, "malformed id or challenge")]
    [InlineData("short-challenge", 1, "malformed id or challenge")]
    [InlineData("future", 3, "the host speaks protocol version 99")]
    public async Task A_bad_hello_is_refused_before_the_device_says_anything_more(string kind, int exit, string why)
    {
        var device = await DeviceAsync("hello-" + kind);
        var hello = new HostHello
        {
            ProtocolVersion = kind == "future" ? 99u : ProtocolVersion.Current,
            HostName = "evil",
            HostId = ByteString.CopyFrom(new byte[kind == "short-id" ? 3 : 16]),
            Challenge = ByteString.CopyFrom(new byte[kind == "short-challenge" ? 5 : 32]),
        };
        await using var evil = HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel, hello);
            await host.ReceiveAsync(channel);
        });

        var result = await device.RunAsync("connect", "--host", evil.Address, "--once");
        await evil.EndedAsync();
        Assert.True(result.ExitCode == exit, result.ToString());
        Assert.Contains(why, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(evil.Received, m => m.BodyCase is Envelope.BodyOneofCase.PartnerRequest or Envelope.BodyOneofCase.Authenticate or Envelope.BodyOneofCase.GuestRequest);
        Assert.Empty(await SlotsAsync(device));
    }

    [Fact]
    public async Task A_wrong_approval_code_stops_the_device_and_it_keeps_nothing()
    {
        var device = await DeviceAsync("code");
        await using var evil = HostileHost.Start(async (host, channel) =>
        {
            var hello = await host.GreetAsync(channel);
            var request = (await host.ReceiveAsync(channel)).PartnerRequest;
            var hostNonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
            await channel.SendAsync(new Envelope { PartnerChallenge = new PartnerChallenge { HostNonce = ByteString.CopyFrom(hostNonce) } }, CancellationToken.None);
            var reveal = (await host.ReceiveAsync(channel)).PartnerReveal;
            var right = SessionProof.ApprovalCode(host.CertificateHash, reveal.DeviceNonce.Span, hostNonce, DeviceName.Parse(hello.DeviceName), request.Number);
            var wrong = right == "000000" ? "000001" : "000000";
            await channel.SendAsync(new Envelope { PartnerPending = new PartnerPending { Code = wrong, TimeoutSeconds = 300 } }, CancellationToken.None);
            await host.ReceiveAsync(channel);
        });

        var result = await device.RunAsync("connect", "--host", evil.Address, "--once");
        await evil.EndedAsync();
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("the host's approval code does not match the one this device computes", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(await SlotsAsync(device));
        Assert.DoesNotContain("waits for your consent", (await device.RunAsync("partnerships")).Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("same-id", "shows a different certificate than when the partnership was made")]
    [InlineData("new-id", "this is not the host you partnered with")]
    public async Task An_impostor_at_the_pinned_hosts_address_gets_no_proof_and_no_data(string kind, string why)
    {
        await using var real = await RunningHost.StartAsync(_folder.Path, "real-" + kind);
        using var address = TcpRelay.Start(real.Address);
        var device = await DeviceAsync("pinned-" + kind);
        Assert.Equal(0, (await device.RunAsync("connect", "--host", address.Address, "--once")).ExitCode);
        var hostId = Convert.FromHexString((await SlotsAsync(device)).Single().GetProperty("hostId").GetString()!);

        // Its own certificate, and the pinned host's name; the pinned host's id, or (issue 19,
        // hole 4: a new host id made it a new host, to which the device uploaded everything) a new one.
        await using var evil = HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel, new HostHello
            {
                ProtocolVersion = ProtocolVersion.Current,
                HostName = "real-" + kind,
                HostId = ByteString.CopyFrom(kind == "same-id" ? hostId : System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                Challenge = ByteString.CopyFrom(new byte[32]),
            });
            await host.ReceiveAsync(channel);
        });
        address.Retarget(evil.Address);

        var result = await device.RunAsync("connect", "--host", address.Address, "--once", "--json");
        await evil.EndedAsync();
        Assert.True(result.ExitCode == 3, result.ToString());
        var error = JsonDocument.Parse(result.Stderr).RootElement;
        Assert.Equal("pin", error.GetProperty("rule").GetString());
        Assert.Contains(why, error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("may be an impostor", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(evil.Received, m => m.BodyCase is Envelope.BodyOneofCase.Authenticate or Envelope.BodyOneofCase.PartnerRequest or Envelope.BodyOneofCase.GuestRequest or Envelope.BodyOneofCase.BackupBegin or Envelope.BodyOneofCase.ChunkQuery);
        Assert.Equal(hostId, Convert.FromHexString((await SlotsAsync(device)).Single().GetProperty("hostId").GetString()!));
    }

    [Fact]
    public async Task A_hosts_name_and_refusal_reach_the_devices_terminal_with_their_control_characters_escaped()
    {
        var device = await DeviceAsync("escapes");
        var refusal = new Refusal { Rule = "P4\u001b[2J", Message = "no\rOVERWRITTEN \u001b[1;1Hclear \u009b31m C1 \u202e reversed" };
        HostileHost Refuse() => HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel, new HostHello
            {
                ProtocolVersion = ProtocolVersion.Current,
                HostName = EvilName,
                HostId = ByteString.CopyFrom(new byte[16]),
                Challenge = ByteString.CopyFrom(new byte[32]),
            });
            await host.ReceiveAsync(channel);
            await channel.SendAsync(new Envelope { Refusal = refusal }, CancellationToken.None);
        });

        await using (var evil = Refuse())
        {
            var result = await device.RunAsync("connect", "--host", evil.Address, "--once");
            await evil.EndedAsync();
            Assert.True(result.ExitCode == 3, result.ToString());
            AssertNoRawControls(result.Stdout + result.Stderr);
            Assert.Contains(@"refused: no\rOVERWRITTEN \x1b[1;1Hclear \x9b31m C1 \u202e reversed", result.Stderr, StringComparison.Ordinal);
        }

        // The rule reaches a script's JSON escaped too (JSON would carry a raw ESC as \u001b, and a script print it).
        await using (var evil = Refuse())
        {
            var result = await device.RunAsync("connect", "--host", evil.Address, "--once", "--json");
            await evil.EndedAsync();
            var error = JsonDocument.Parse(result.Stderr).RootElement;
            Assert.Equal(@"P4\x1b[2J", error.GetProperty("rule").GetString());
            Assert.False(WireText.NeedsEscape(error.GetProperty("error").GetString()!), result.Stderr);
        }

        // A restore: the host's name, the source device and the grounds it states, and a path no
        // snapshot may hold (refused, reported, never written).
        var label = Path.GetFileName(device.DataFolder);
        var content = "fine\n"u8.ToArray();
        await using (var evil = HostileHost.Start(async (host, channel) =>
        {
            await host.GreetAsync(channel, new HostHello
            {
                ProtocolVersion = ProtocolVersion.Current,
                HostName = EvilName,
                HostId = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
                Challenge = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            });
            await host.AcceptGuestAsync(channel);
            Assert.Equal(Envelope.BodyOneofCase.RestoreRequest, (await host.ReceiveAsync(channel)).BodyCase);
            await channel.SendAsync(new Envelope { RestoreOffer = new RestoreOffer { SnapshotId = 1, SourceDevice = "SRC\u001b[31m", Entries = 2, Grounds = "grounds\u001b]0;pwned\u0007\rlie" } }, CancellationToken.None);
            await channel.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { Entry($"{label}/ok.txt", content), Entry($"{label}/bad\u001b[2Jname.txt", content) } } }, CancellationToken.None);
            await host.ServeChunksAsync(channel, _ => Raw(content));
        }))
        {
            var result = await device.RunAsync("restore", "--host", evil.Address);
            await evil.EndedAsync();
            var output = result.Stdout + result.Stderr;
            AssertNoRawControls(output);
            Assert.Contains(@"evil\x1b]0;pwned\x07\x1b[31m", output, StringComparison.Ordinal);
            Assert.Contains(@"SRC\x1b[31m", output, StringComparison.Ordinal);
            Assert.Contains(@"grounds\x1b]0;pwned\x07\rlie", output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(device.DataFolder, "ok.txt")), result.ToString());
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(device.DataFolder), p => p.Contains('\u001b', StringComparison.Ordinal));
        }
    }

    private const string EvilName = "evil\u001b]0;pwned\u0007\u001b[31m";

    private static void AssertNoRawControls(string output)
    {
        foreach (var raw in new[] { '\u001b', '\r', '\u0007', '\u009b', '\u202e' })
        {
            Assert.False(output.Contains(raw, StringComparison.Ordinal), $"U+{(int)raw:X4} came through raw:\n{output}");
        }
    }

    private async Task<TestDevice> DeviceAsync(string label)
    {
        var device = new TestDevice(_folder.Path, label);
        Assert.Equal(0, (await device.InitAsync("VICTIM-" + Math.Abs(label.GetHashCode(StringComparison.Ordinal) % 1000))).ExitCode);
        return device;
    }

    private static async Task<List<JsonElement>> SlotsAsync(TestDevice device) =>
        [.. JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray()];

    private static FileEntry Entry(string path, byte[] content) =>
        new() { Path = path, Size = (ulong)content.Length, MtimeUnixNs = 1_000_000_000, ChunkIds = { ByteString.CopyFrom(ChunkId.Of(content).ToArray()) } };

    private static ChunkData Raw(byte[] content) => new() { RawLength = (uint)content.Length, Data = ByteString.CopyFrom(content) };

    private static byte[][] RandomIds(int count) => [.. Enumerable.Range(0, count).Select(_ => System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))];
}
