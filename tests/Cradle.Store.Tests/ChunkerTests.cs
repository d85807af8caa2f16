using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

public class ChunkerTests
{
    private static readonly ChunkerOptions Sizes = ChunkerOptions.Default;

    internal static async Task<List<byte[]>> ChunkAsync(Stream source, ChunkerOptions? options = null)
    {
        var chunker = new Chunker(source, options);
        var chunks = new List<byte[]>();
        while (await chunker.MoveNextAsync(CancellationToken.None))
        {
            chunks.Add(chunker.Current.ToArray());
        }

        return chunks;
    }

    internal static Task<List<byte[]>> ChunkAsync(byte[] data, ChunkerOptions? options = null) => ChunkAsync(new MemoryStream(data), options);

    [Fact]
    public async Task Cuts_are_deterministic()
    {
        var data = TestData.Bytes(1, 3 << 20);
        var first = await ChunkAsync(data);
        var second = await ChunkAsync(data);
        Assert.Equal(first.Select(c => c.Length), second.Select(c => c.Length));
        Assert.True(first.Count > 10, $"3 MiB made only {first.Count} chunks");
    }

    [Fact]
    public async Task Every_chunk_but_the_last_is_between_min_and_max()
    {
        var chunks = await ChunkAsync(TestData.Bytes(2, 8 << 20));
        foreach (var chunk in chunks.SkipLast(1))
        {
            Assert.InRange(chunk.Length, Sizes.MinSize, Sizes.MaxSize);
        }

        Assert.InRange(chunks[^1].Length, 1, Sizes.MaxSize);
        // Normalized chunking keeps the mean near the average size.
        var mean = chunks.Average(c => c.Length);
        Assert.InRange(mean, Sizes.AverageSize / 2.0, Sizes.AverageSize * 2.0);
    }

    [Fact]
    public async Task Data_without_cut_points_is_cut_at_the_maximum_size()
    {
        var chunks = await ChunkAsync(new byte[1 << 20]);
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(Sizes.MaxSize, c.Length));
        Assert.Equal(1 << 20, chunks.Sum(c => c.Length));
    }

    [Fact]
    public async Task Chunks_concatenate_to_the_input()
    {
        var data = TestData.Bytes(3, (5 << 20) + 12345);
        var chunks = await ChunkAsync(data);
        Assert.Equal(data, chunks.SelectMany(c => c).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(16 * 1024)]
    [InlineData((16 * 1024) + 1)]
    public async Task A_small_input_is_one_chunk(int length)
    {
        var data = TestData.Bytes(4, length);
        var chunks = await ChunkAsync(data);
        if (length <= Sizes.MinSize)
        {
            Assert.Single(chunks);
        }

        Assert.Equal(data, chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public async Task An_empty_stream_yields_no_chunk()
    {
        var chunker = new Chunker(new MemoryStream());
        Assert.False(await chunker.MoveNextAsync(CancellationToken.None));
        Assert.True(chunker.Current.IsEmpty);
        Assert.False(await chunker.MoveNextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Cuts_do_not_depend_on_how_the_stream_delivers_its_bytes()
    {
        var data = TestData.Bytes(5, 2 << 20);
        var whole = await ChunkAsync(data);
        var trickled = await ChunkAsync(new TrickleStream(data, 4093));
        Assert.Equal(whole.Select(c => c.Length), trickled.Select(c => c.Length));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(50_000, 50_000)]
    [InlineData(10, 3 << 20)] // the file grew after the listing: the buffer grows, the cuts do not move
    [InlineData(100_000, 20_000)] // it shrank
    [InlineData(3 << 20, 3 << 20)] // as large as the full buffer or more: the full buffer at once
    public async Task Cuts_do_not_depend_on_the_expected_length(int expected, int actual)
    {
        var data = TestData.Bytes(8, actual);
        var plain = await ChunkAsync(data);
        var chunker = new Chunker(new TrickleStream(data, 7919), expectedLength: expected);
        var hinted = new List<byte[]>();
        while (await chunker.MoveNextAsync(CancellationToken.None))
        {
            hinted.Add(chunker.Current.ToArray());
        }

        Assert.Equal(plain.Select(c => ChunkId.Of(c)), hinted.Select(c => ChunkId.Of(c)));
        // A small, accurate expectation keeps a small buffer; a longer stream gets the full one.
        Assert.Equal(expected >= 2 * Sizes.MaxSize - 1 || actual > expected, chunker.HasFullBuffer);
    }

    [Fact]
    public async Task An_insertion_near_the_start_leaves_the_later_chunks_identical()
    {
        var original = TestData.Bytes(6, 4 << 20);
        var edited = original[..1000].Concat(TestData.Bytes(99, 100)).Concat(original[1000..]).ToArray();

        var before = (await ChunkAsync(original)).Select(c => ChunkId.Of(c)).ToList();
        var after = (await ChunkAsync(edited)).Select(c => ChunkId.Of(c)).ToList();

        var shared = after.Count(before.Contains);
        // Only the chunk(s) around the insertion change; FastCDC resynchronizes right after it.
        Assert.True(shared >= before.Count - 2, $"{shared} of {before.Count} chunks survived an insertion of 100 bytes");
        Assert.Equal(before.Skip(2), after.Skip(after.Count - before.Count + 2));
    }

    [Fact]
    public async Task Golden_chunk_lengths_of_a_seeded_1_MiB_buffer()
    {
        // These lengths pin the store format: the gear table, the masks and the default sizes.
        // If they change, new backups stop deduplicating against old ones. Checked against an
        // independent implementation of the documented algorithm (gear = SHA-256 of
        // "cradle-gear-v1" | i, masks of 18 and 14 high bits around the 64 KiB average).
        int[] golden = [66267, 75617, 60587, 74551, 87730, 65865, 75052, 48908, 68483, 53521, 106948, 56192, 71264, 93989, 43602];
        var lengths = (await ChunkAsync(TestData.Bytes(0xC0FFEE, 1 << 20))).Select(c => c.Length).ToArray();
        Assert.True(golden.SequenceEqual(lengths), "lengths: " + string.Join(", ", lengths));
        Assert.Equal(1 << 20, golden.Sum());
    }

    [Theory]
    [InlineData(32, 64, 128)] // min below 64
    [InlineData(1024, 1024, 4096)] // average not above min
    [InlineData(1024, 4096, 4096)] // max not above average
    [InlineData(1024, 3000, 8192)] // average not a power of two
    [InlineData(1024, 4096, (1024 * 1024) + 1)] // max above the absolute limit
    public void Bad_sizes_are_refused(int min, int average, int max)
    {
        var options = new ChunkerOptions { MinSize = min, AverageSize = average, MaxSize = max };
        Assert.Throws<ArgumentException>(() => new Chunker(new MemoryStream(), options));
    }

    [Fact]
    public async Task Custom_sizes_are_honoured()
    {
        var options = new ChunkerOptions { MinSize = 256, AverageSize = 1024, MaxSize = 4096 };
        var chunks = await ChunkAsync(TestData.Bytes(7, 1 << 20), options);
        Assert.All(chunks.SkipLast(1), c => Assert.InRange(c.Length, 256, 4096));
        Assert.True(chunks.Count > 200);
    }

    /// <summary>A stream that hands out at most a few bytes per read, as a slow link or pipe does.</summary>
    private sealed class TrickleStream(byte[] data, int step) : MemoryStream(data, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, step));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, step)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, step)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, step), cancellationToken);
    }
}
