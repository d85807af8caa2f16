using System.Buffers.Binary;
using System.Text.Json;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Bad input against the real host process: each case gets a clear refusal, the session
/// closes, nothing is stored, and the host keeps serving honest devices.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();
    private RunningHost _host = null!;

    public async Task InitializeAsync() => _host = await RunningHost.StartAsync(_folder.Path, "guarded");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("data/../../escape.txt")]
    [InlineData("/etc/escape.txt")]
    [InlineData("C:/escape.txt")]
    [InlineData("data/\0nul.txt")]
    public async Task A_hostile_path_is_refused_and_nothing_is_written_outside_the_store(string path)
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("EVIL-1", 0x1234_5678);
        var reply = await client.BackUpOneFileAsync(path, "payload"u8.ToArray());

        Assert.Equal(Envelope.BodyOneofCase.Refusal, reply.BodyCase);
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains("refused path", reply.Refusal.Message);
        Assert.False(File.Exists(Path.Combine(_folder.Path, "escape.txt")));
        Assert.False(File.Exists(Path.Combine(_host.Data, "escape.txt")));
        Assert.Empty(await SnapshotsAsync());
        await AssertHostStillServesAsync();
    }

    [Fact]
    public async Task An_oversized_frame_closes_the_session_with_a_clear_error()
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.HelloAsync("BIG-1");
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, 64 * 1024 * 1024);
        await client.Tls.Stream.WriteAsync(header);
        await client.Tls.Stream.FlushAsync();

        var reply = await client.ReceiveAsync();
        Assert.Equal(Envelope.BodyOneofCase.Refusal, reply.BodyCase);
        Assert.Contains("exceeds the", reply.Refusal.Message);
        await Assert.ThrowsAsync<LinkClosedException>(async () => await client.ReceiveAsync());
        await AssertHostStillServesAsync();
    }

    [Fact]
    public async Task The_right_name_and_number_without_the_secret_is_refused_P2()
    {
        var device = new TestDevice(_folder.Path, "owner");
        await device.InitAsync("OWNER-1");
        Assert.Equal(0, (await device.BackUpOnceAsync(_host)).ExitCode);
        var slot = JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement[0];
        var number = slot.GetProperty("number").GetUInt32();

        await using var client = await HostileClient.ConnectAsync(_host.Address);
        var hello = await client.HelloAsync("OWNER-1");
        var guessed = SessionProof.Compute(new byte[32], hello.Challenge.Span, client.Tls.PeerCertificateHash, DeviceName.Parse("OWNER-1"));
        await client.SendAsync(new Envelope { Authenticate = new Authenticate { Number = number, Proof = ByteString.CopyFrom(guessed) } });
        var reply = await client.ReceiveAsync();

        Assert.Equal(Envelope.BodyOneofCase.Refusal, reply.BodyCase);
        Assert.Equal("auth", reply.Refusal.Rule);
        Assert.Single(await SnapshotsAsync());
    }

    [Theory]
    [InlineData("1DIGIT", "does not start with a letter")]
    [InlineData("has.dot", "contains '.'")]
    [InlineData("SIXTEEN-CHARS-XX", "has 16 characters")]
    public async Task A_device_name_breaking_P1_is_refused_with_the_reason(string name, string reason)
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.SendAsync(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = ProtocolVersion.Current, DeviceName = name } });
        var reply = await client.ReceiveAsync();
        Assert.Equal(Envelope.BodyOneofCase.Refusal, reply.BodyCase);
        Assert.Equal("P1", reply.Refusal.Rule);
        Assert.Contains(reason, reply.Refusal.Message);
    }

    [Fact]
    public async Task A_protocol_version_from_the_future_is_refused_by_name()
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.SendAsync(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = 99, DeviceName = "FUTURE-1" } });
        var reply = await client.ReceiveAsync();
        Assert.Equal("version", reply.Refusal.Rule);
        Assert.Contains("99", reply.Refusal.Message);
    }

    [Fact]
    public async Task Chunk_data_that_does_not_match_its_hash_is_refused_and_not_stored()
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("LIAR-1", 0x0BAD_F00D);
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var claimed = ChunkId.Of("what I claim"u8);
        await client.SendAsync(new Envelope { ChunkQuery = new ChunkQuery { QueryId = 1, Ids = { ByteString.CopyFrom(claimed.ToArray()) } } });
        Assert.Single((await client.ReceiveAsync()).ChunkAnswer.Missing);
        await client.SendAsync(new Envelope { ChunkData = new ChunkData { Id = ByteString.CopyFrom(claimed.ToArray()), RawLength = 11, Data = ByteString.CopyFromUtf8("what I send") } });
        var reply = await client.ReceiveAsync();
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains("does not match its hash", reply.Refusal.Message);
        Assert.Empty(await SnapshotsAsync());
    }

    [Fact]
    public async Task A_path_listed_twice_in_one_backup_is_refused_even_in_different_batches()
    {
        // The host keeps a 128-bit key per path, not the paths: the same path in a later batch
        // must still be caught, and paths that differ only by case are different paths.
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("TWICE-1", 0x7A1C_E001);
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        FileEntry Folder(string path) => new() { Path = path, Kind = EntryKind.Directory };
        await client.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { Folder("data"), Folder("data/Logs"), Folder("data/logs") } } });
        await client.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { Folder("data/scans"), Folder("data/Logs") } } });
        var reply = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains("\"data/Logs\" appears twice in one snapshot", reply.Refusal.Message);
        Assert.Empty(await SnapshotsAsync());
    }

    [Theory]
    [InlineData("../../etc/passwd", "refused path")]
    [InlineData("/etc/shadow", "refused path")]
    [InlineData("data/self.txt", "a hard link to itself")]
    public async Task A_hard_link_to_a_path_outside_the_snapshot_or_to_itself_is_refused(string linkTo, string expected)
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("LINKER-1", 0x0BAD_F011);
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var entry = new FileEntry { Path = "data/self.txt", Kind = EntryKind.File, LinkTo = linkTo };
        await client.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { new FileEntry { Path = "data", Kind = EntryKind.Directory }, entry } } });
        var reply = await client.ReceiveAsync();
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains(expected, reply.Refusal.Message);
        Assert.Empty(await SnapshotsAsync());
    }

    [Fact]
    public async Task A_folder_marked_as_a_hard_link_is_refused()
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("LINKER-2", 0x0BAD_F012);
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        await client.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { new FileEntry { Path = "data", Kind = EntryKind.Directory, LinkTo = "data2" } } } });
        var reply = await client.ReceiveAsync();
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains("folder \"data\" is marked a hard link", reply.Refusal.Message);
        Assert.Empty(await SnapshotsAsync());
    }

    [Fact]
    public async Task A_file_naming_a_chunk_that_was_never_sent_is_refused()
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("LIAR-2", 0x0BAD_F00E);
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var never = ChunkId.Of("never sent"u8);
        var entry = new FileEntry { Path = "data/ghost.txt", Size = 10, ChunkIds = { ByteString.CopyFrom(never.ToArray()) } };
        await client.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { entry } } });
        var reply = await client.ReceiveAsync();
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains("never sent", reply.Refusal.Message);
        Assert.Empty(await SnapshotsAsync());
    }

    [Fact]
    public async Task A_nonce_that_does_not_match_its_commitment_is_refused_and_no_partnership_is_made()
    {
        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.HelloAsync("SWAP-1");
        await client.SendAsync(new Envelope { PartnerRequest = new PartnerRequest { Number = 0x600D_CAFE, Commitment = ByteString.CopyFrom(SessionProof.Commit(new byte[32])) } });
        Assert.Equal(Envelope.BodyOneofCase.PartnerChallenge, (await client.ReceiveAsync()).BodyCase);
        var other = new byte[32];
        other[0] = 1;
        await client.SendAsync(new Envelope { PartnerReveal = new PartnerReveal { DeviceNonce = ByteString.CopyFrom(other) } });
        var reply = await client.ReceiveAsync();
        Assert.Equal("approval", reply.Refusal.Rule);
        Assert.Contains("commitment", reply.Refusal.Message);
        var devices = JsonDocument.Parse((await _host.RunAsync("host", "devices", "--json")).Stdout).RootElement;
        Assert.DoesNotContain(devices.EnumerateArray(), d => d.GetProperty("name").GetString() == "SWAP-1");
    }

    private async Task<List<JsonElement>> SnapshotsAsync()
    {
        var result = await _host.RunAsync("host", "snapshots", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    private async Task AssertHostStillServesAsync()
    {
        var honest = new TestDevice(_folder.Path, "honest-" + Guid.NewGuid().ToString("N")[..6]);
        await honest.InitAsync("HONEST-" + Random.Shared.Next(1000, 9999));
        var result = await honest.BackUpOnceAsync(_host);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public void Dispose() => _folder.Dispose();
}
