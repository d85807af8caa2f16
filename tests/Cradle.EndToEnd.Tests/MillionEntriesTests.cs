using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A device lists a million files in one backup (issue 8's hostile kit). The host takes it
/// without its memory growing with the count (entries spill to disk, paths are kept as 128-bit
/// keys), commits it, and an honest device backs up meanwhile.
/// </summary>
public sealed class MillionEntriesTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const int Entries = 1_000_000;
    private const int PerMessage = 5_000;

    /// <summary>What the host may grow by for a million entries (its paths' keys alone are ~16 MiB).</summary>
    private const long GrowthBoundKiB = 160 * 1024;

    private readonly TempFolder _folder = new();
    private RunningHost _host = null!;

    public async Task InitializeAsync() => _host = await RunningHost.StartAsync(_folder.Path, "many", autoApprove: true);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_million_file_entries_in_one_backup_commit_in_bounded_memory_while_another_device_backs_up()
    {
        var honest = new TestDevice(_folder.Path, "honest");
        Directory.CreateDirectory(honest.DataFolder);
        File.WriteAllBytes(Path.Combine(honest.DataFolder, "log.txt"), TestData.Bytes(3, 200_000));
        Assert.Equal(0, (await honest.InitAsync("HONEST-1")).ExitCode);
        var before = LoadTests.Memory(_host.Process.Id, "VmHWM");

        await using var client = await HostileClient.ConnectAsync(_host.Address);
        await client.PartnerAsync("MANY-1", 0x00C0_FFEE);
        await client.SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var content = "x"u8.ToArray();
        var id = ByteString.CopyFrom(ChunkId.Of(content).ToArray());
        await client.SendAsync(new Envelope { ChunkQuery = new ChunkQuery { QueryId = 1, Ids = { id } } });
        var answer = await client.ReceiveAsync();
        Assert.True(answer.BodyCase == Envelope.BodyOneofCase.ChunkAnswer, answer.ToString());
        await client.SendAsync(new Envelope { ChunkData = new ChunkData { Id = id, RawLength = 1, Data = ByteString.CopyFrom(content) } });

        // The honest device backs up while the entries stream in.
        var honestBackup = honest.BackUpOnceAsync(_host);
        for (var start = 0; start < Entries; start += PerMessage)
        {
            var batch = new FileEntries();
            for (var i = start; i < start + PerMessage; i++)
            {
                batch.Entries.Add(new FileEntry { Path = $"d{i / 1000:000}/f{i % 1000:000}.log", Size = 1, MtimeUnixNs = 1, ChunkIds = { id } });
            }

            await client.SendAsync(new Envelope { FileEntries = batch });
        }

        await client.SendAsync(new Envelope { BackupEnd = new BackupEnd { Files = Entries, Bytes = Entries } });
        var committed = await client.ReceiveAsync();
        Assert.True(committed.BodyCase == Envelope.BodyOneofCase.BackupCommitted, committed.ToString());
        Assert.Equal((ulong)Entries, committed.BackupCommitted.Files);
        var done = await honestBackup;
        Assert.True(done.ExitCode == 0, done.ToString());

        var peak = LoadTests.Memory(_host.Process.Id, "VmHWM");
        output.WriteLine($"host VmHWM {before / 1024} MiB before, {peak / 1024} MiB after a snapshot of {Entries:N0} entries");
        Assert.True(peak - before < GrowthBoundKiB, $"the host grew by {(peak - before) / 1024} MiB for {Entries:N0} entries");

        var listed = await _host.RunAsync("host", "snapshots", "MANY-1", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var snapshot = Assert.Single(System.Text.Json.JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray());
        Assert.Equal(Entries, snapshot.GetProperty("files").GetInt64());
    }
}
