using System.Text;
using System.Text.Json;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// Issue 19, hole 1: knowing a chunk's hash was enough to learn that another device had it (a
/// dedup oracle) and then to read it (name it in a snapshot, restore it). Now a device may name
/// only chunks it sent itself or that stand in its own snapshots; a chunk stored only for another
/// device is reported missing, must be sent, is checked against its hash and is still stored once.
/// </summary>
public sealed class OwnershipTests : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();
    private RunningHost _host = null!;

    public async Task InitializeAsync() => _host = await RunningHost.StartAsync(_folder.Path, "owners");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_chunk_only_another_device_stored_is_reported_missing_and_cannot_be_named_without_its_data()
    {
        // The victim keeps a PIN in a file of its own; the attacker can compute all 10^6 candidates.
        var victim = new TestDevice(_folder.Path, "victim");
        Directory.CreateDirectory(victim.DataFolder);
        await File.WriteAllTextAsync(Path.Combine(victim.DataFolder, "pin.txt"), "PIN=483920\n");
        Assert.Equal(0, (await victim.InitAsync("VICTIM-1")).ExitCode);
        var backup = await victim.BackUpOnceAsync(_host);
        Assert.True(backup.ExitCode == 0, backup.ToString());

        await using var thief = await HostileClient.ConnectAsync(_host.Address);
        await thief.PartnerAsync("THIEF-1", 0x7EEF_0001);
        await thief.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var guesses = new[] { "PIN=483919\n", "PIN=483920\n", "PIN=483921\n" }.Select(g => ChunkId.Of(Encoding.ASCII.GetBytes(g))).ToArray();
        var query = new ChunkQuery { QueryId = 1 };
        query.Ids.AddRange(guesses.Select(g => ByteString.CopyFrom(g.ToArray())));
        await thief.SendAsync(new Envelope { ChunkQuery = query });
        var answer = await thief.ReceiveAsync();

        // All three are missing for this device: the answer says nothing about the victim's file.
        Assert.Equal(Envelope.BodyOneofCase.ChunkAnswer, answer.BodyCase);
        Assert.Equal([0u, 1u, 2u], answer.ChunkAnswer.Missing);

        // Naming the victim's chunk without sending it is refused; nothing is committed.
        var entry = new FileEntry { Path = "data/pin.txt", Size = 11, MtimeUnixNs = 1, ChunkIds = { ByteString.CopyFrom(guesses[1].ToArray()) } };
        await thief.SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { entry } } });
        await thief.SendAsync(new Envelope { BackupEnd = new BackupEnd { Files = 1, Bytes = 11 } });
        var reply = await thief.ReceiveAsync();
        Assert.Equal(Envelope.BodyOneofCase.Refusal, reply.BodyCase);
        Assert.Equal("protocol", reply.Refusal.Rule);
        Assert.Contains("never sent", reply.Refusal.Message, StringComparison.Ordinal);

        var snapshots = await _host.RunAsync("host", "snapshots", "THIEF-1", "--json");
        Assert.True(snapshots.ExitCode == 0, snapshots.ToString());
        Assert.Empty(JsonDocument.Parse(snapshots.Stdout).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Two_devices_with_the_same_file_each_send_it_and_the_store_keeps_it_once()
    {
        var content = new byte[2 * 1024 * 1024];
        TestData.Fill(19, content);
        var first = new TestDevice(_folder.Path, "first");
        var second = new TestDevice(_folder.Path, "second");
        foreach (var (device, name) in new[] { (first, "SAME-1"), (second, "SAME-2") })
        {
            Directory.CreateDirectory(device.DataFolder);
            await File.WriteAllBytesAsync(Path.Combine(device.DataFolder, "shared.bin"), content);
            Assert.Equal(0, (await device.InitAsync(name)).ExitCode);
        }

        var one = await first.RunAsync("connect", "--host", _host.Address, "--once", "--json");
        Assert.True(one.ExitCode == 0, one.ToString());
        var packsAfterFirst = PackBytes();

        var two = await second.RunAsync("connect", "--host", _host.Address, "--once", "--json");
        Assert.True(two.ExitCode == 0, two.ToString());
        var sent = JsonDocument.Parse(two.Stdout).RootElement;

        // The second device sent every chunk of the file (the host did not say it had them) ...
        Assert.True(sent.GetProperty("chunksSent").GetInt64() >= 1, two.Stdout);
        Assert.True(sent.GetProperty("wireBytesSent").GetInt64() >= content.Length, two.Stdout);

        // ... and the store kept the file once: only the second snapshot's own tree was added.
        Assert.InRange(PackBytes() - packsAfterFirst, 0, 64 * 1024);

        // A third backup of the second device sends nothing again: what it sent is its own now.
        var three = await second.RunAsync("connect", "--host", _host.Address, "--once", "--json");
        Assert.True(three.ExitCode == 0, three.ToString());
        Assert.Equal(0, JsonDocument.Parse(three.Stdout).RootElement.GetProperty("chunksSent").GetInt64());

        var restored = _folder["restored"];
        var restore = await _host.RunAsync("host", "restore", "SAME-2", "--to", restored);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(restored, Path.GetFileName(second.DataFolder), "shared.bin")));
    }

    private long PackBytes() =>
        Directory.EnumerateFiles(Path.Combine(_host.Data, "packs"), "*.pack", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
