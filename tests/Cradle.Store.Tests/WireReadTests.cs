using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>
/// What a restore over the wire sends (<see cref="SnapshotReader.ReadChunkForWireAsync"/>): a
/// chunk record's stored bytes as they are, unverified — the device verifies them — but only
/// the record the catalog names, checked by its header, so a damaged catalog never sends
/// another chunk's bytes.
/// </summary>
public sealed class WireReadTests : IAsyncLifetime
{
    private readonly TempFolder _temp = new();
    private readonly ChunkCodec _codec = new(1);
    private TestStore _store = null!;

    public async Task InitializeAsync() => _store = await TestStore.OpenAsync(_temp["store"], _temp["scratch"]);

    public Task DisposeAsync()
    {
        _store.Dispose();
        _codec.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_record_is_sent_as_stored_and_a_group_member_compressed_on_its_own()
    {
        var raw = TestData.Bytes(1, 16_000);
        var small = TestData.Log(2, 3_000);
        var other = TestData.Log(3, 3_000);
        await _store.BackupAsync("MX7-0042", new Dictionary<string, byte[]> { ["raw.bin"] = raw, ["a.log"] = small, ["b.log"] = other });
        using var reader = _store.Store.OpenReader();

        var (compression, data) = await reader.ReadChunkForWireAsync(_store.Locate(ChunkId.Of(raw)), _codec, CancellationToken.None);
        Assert.Equal(ChunkCompression.None, compression);
        Assert.Equal(raw, data.ToArray());

        var member = _store.Locate(ChunkId.Of(small));
        Assert.Equal(ChunkCompression.ZstdGroup, member.Entry.Compression);
        (compression, data) = await reader.ReadChunkForWireAsync(member, _codec, CancellationToken.None);
        Assert.Equal(ChunkCompression.Zstd, compression);
        var decoded = new byte[small.Length];
        _codec.Decompress(compression, data.Span, decoded);
        Assert.Equal(small, decoded);
    }

    [Fact]
    public async Task A_catalog_row_pointing_at_another_chunks_record_sends_nothing()
    {
        // Two chunks of the same size (under the chunker's minimum: one chunk each), stored raw:
        // a row with the other's offset would pass every length check.
        var first = TestData.Bytes(4, 16_000);
        var second = TestData.Bytes(5, 16_000);
        await _store.BackupAsync("MX7-0042", new Dictionary<string, byte[]> { ["first.bin"] = first, ["second.bin"] = second });
        var wrong = _store.Locate(ChunkId.Of(first)) with { Entry = _store.Locate(ChunkId.Of(first)).Entry with { Offset = _store.Locate(ChunkId.Of(second)).Entry.Offset } };
        using var reader = _store.Store.OpenReader();

        var e = await Assert.ThrowsAsync<StoreCorruptException>(async () => await reader.ReadChunkForWireAsync(wrong, _codec, CancellationToken.None));
        Assert.Contains($"pack {wrong.PackName}: the record at offset {wrong.Entry.Offset} is not chunk {ChunkId.Of(first)}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Damaged_data_is_sent_unverified_and_the_verifying_read_names_the_pack()
    {
        var raw = TestData.Bytes(6, 16_000);
        await _store.BackupAsync("MX7-0042", new Dictionary<string, byte[]> { ["raw.bin"] = raw });
        var location = _store.Locate(ChunkId.Of(raw));
        await _store.FlipBitAsync(location.PackName, location.Entry.DataOffset + 100);
        using var reader = _store.Store.OpenReader();

        // The device finds it (ChunkMessage.Open hashes every chunk); the host did not hash it.
        var (_, data) = await reader.ReadChunkForWireAsync(location, _codec, CancellationToken.None);
        Assert.NotEqual(ChunkId.Of(raw), ChunkId.Of(data.Span));

        // What the host runs when the device stops the restore: it names the pack.
        var e = await Assert.ThrowsAsync<StoreCorruptException>(async () => await reader.ReadChunkAsync(location, new byte[raw.Length], CancellationToken.None));
        Assert.Contains($"pack {location.PackName}: chunk {ChunkId.Of(raw)}", e.Message, StringComparison.Ordinal);
        Assert.Contains("does not match its hash", e.Message, StringComparison.Ordinal);
    }
}
