using System.Buffers.Binary;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>
/// A large compressed chunk is stored in the zstd frame the device sent (no second compression
/// on the host); anything but one plain frame that saves what the codec demands goes into a
/// group instead, so a device cannot make the store keep bytes besides the chunk's own.
/// </summary>
public sealed class KeptAsSentTests : IAsyncLifetime
{
    private readonly TempFolder _temp = new();
    private readonly ChunkCodec _codec = new();
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
    public async Task A_large_compressed_chunk_is_stored_in_the_frame_it_came_in_and_a_small_one_in_a_group()
    {
        var large = TestData.Log(1, PackFormat.KeepAsSentFrom + 10_000);
        var small = TestData.Log(2, 5_000);
        var other = TestData.Log(3, 6_000);
        var largeFrame = _codec.Compress(large).Data.ToArray();

        // Two small chunks: a group of one is written as an ordinary record.
        var id = await CommitAsync((large, ChunkCompression.Zstd, largeFrame), Sent(small), Sent(other));

        var kept = _store.Locate(ChunkId.Of(large));
        Assert.Equal(ChunkCompression.Zstd, kept.Entry.Compression);
        Assert.Equal(largeFrame, await StoredBytesAsync(kept));
        Assert.Equal(ChunkCompression.ZstdGroup, _store.Locate(ChunkId.Of(small)).Entry.Compression);
        Assert.Equal(ChunkCompression.ZstdGroup, _store.Locate(ChunkId.Of(other)).Entry.Compression);
        await AssertReadsBackAsync(id, large, small, other);
    }

    public static TheoryData<string> Hostile => ["a skippable frame after the chunk's", "the chunk in two frames", "a frame that saves too little"];

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_frame_carrying_more_than_the_chunk_is_not_kept_as_sent(string how)
    {
        var raw = how == "a frame that saves too little"
            ? [.. TestData.Bytes(7, PackFormat.KeepAsSentFrom), .. TestData.Log(3, 4_000)]
            : TestData.Log(3, PackFormat.KeepAsSentFrom + 10_000);
        var frame = HostileFrame(how, raw);

        // The host's verification accepts it: it decodes to exactly the chunk.
        var decoded = new byte[raw.Length];
        _codec.Decompress(ChunkCompression.Zstd, frame, decoded);
        Assert.Equal(raw, decoded);

        var id = await CommitAsync((raw, ChunkCompression.Zstd, frame));

        var location = _store.Locate(ChunkId.Of(raw));
        Assert.NotEqual(frame, await StoredBytesAsync(location));
        var pack = await _store.PackBytesAsync(location.PackName);
        Assert.DoesNotContain(Marker, Encoding.ASCII.GetString(pack), StringComparison.Ordinal);
        await AssertReadsBackAsync(id, raw);
    }

    [Fact]
    public void Only_one_plain_zstd_frame_is_a_single_frame()
    {
        var raw = TestData.Log(4, 20_000);
        var frame = _codec.Compress(raw).Data.ToArray();
        Assert.True(ChunkCodec.IsSingleFrame(frame));
        Assert.False(ChunkCodec.IsSingleFrame(frame.AsSpan(0, frame.Length - 1)));
        Assert.False(ChunkCodec.IsSingleFrame([.. frame, 0]));
        Assert.False(ChunkCodec.IsSingleFrame(Skippable()));
        Assert.False(ChunkCodec.IsSingleFrame([]));
    }

    private const string Marker = "ANOTHER-DEVICE-WOULD-READ-THIS";

    private byte[] HostileFrame(string how, byte[] raw)
    {
        switch (how)
        {
            case "a skippable frame after the chunk's":
                return [.. _codec.CompressAlways(raw).Span, .. Skippable()];
            case "the chunk in two frames":
                var half = raw.Length / 2;
                byte[] first = [.. _codec.CompressAlways(raw.AsMemory(0, half)).Span];
                return [.. first, .. _codec.CompressAlways(raw.AsMemory(half)).Span];
            default:
                // zstd saves less than 1/32 of a chunk that is mostly random bytes; the device's codec would send it raw.
                var frame = _codec.CompressAlways(raw).ToArray();
                Assert.True(frame.Length >= raw.Length - (raw.Length >> 5), $"{frame.Length} of {raw.Length}");
                return frame;
        }
    }

    private (byte[] Raw, ChunkCompression Compression, byte[] Sent) Sent(byte[] raw) => (raw, ChunkCompression.Zstd, _codec.Compress(raw).Data.ToArray());

    private static byte[] Skippable()
    {
        var payload = Encoding.ASCII.GetBytes(Marker);
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, 0x184D2A50);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(frame, 8);
        return frame;
    }

    private async Task<long> CommitAsync(params (byte[] Raw, ChunkCompression Compression, byte[] Sent)[] chunks)
    {
        await using var writer = await _store.Store.BeginWriteAsync(CancellationToken.None);
        var entries = new List<TreeEntry>();
        foreach (var (raw, compression, sent) in chunks)
        {
            var id = ChunkId.Of(raw);
            await writer.AddAsync(id, compression, sent, raw, CancellationToken.None);
            entries.Add(new TreeEntry($"f{entries.Count}", EntryKind.File, raw.Length, 0, 0, [id]));
        }

        return await writer.CommitAsync(TestStore.Request("MX7-0042"), entries, CancellationToken.None);
    }

    private async Task<byte[]> StoredBytesAsync(ChunkLocation location)
    {
        var pack = await _store.PackBytesAsync(location.PackName);
        return pack.AsSpan((int)location.Entry.DataOffset, location.Entry.StoredLength).ToArray();
    }

    private async Task AssertReadsBackAsync(long snapshot, params byte[][] files)
    {
        using var reader = _store.Store.OpenReader();
        var catalog = reader.Catalog;
        var tree = await reader.LoadTreeAsync(catalog.GetSnapshot(snapshot)!, CancellationToken.None);
        for (var i = 0; i < files.Length; i++)
        {
            var entry = tree.Single(e => e.Path == $"f{i}");
            var location = catalog.FindChunk(entry.Chunks[0])!;
            var read = new byte[location.Entry.RawLength];
            await reader.ReadChunkAsync(location, read, CancellationToken.None);
            Assert.Equal(files[i], read);
        }
    }
}
