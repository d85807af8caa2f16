using Cradle.Content;
using Cradle.Host.Tests.Dashboard;
using Cradle.Store;

namespace Cradle.Host.Tests;

/// <summary>
/// The host's sessions check received chunks with zstd contexts from one shared, bounded pool
/// instead of one context each for their whole life (docs/BENCHMARKS.md, "Fleet").
/// </summary>
public sealed class ChunkCodecPoolTests
{
    [Fact]
    public void An_idle_pool_keeps_at_most_its_capacity_and_hands_kept_contexts_out_again()
    {
        using var pool = new ChunkCodecPool(capacity: 2);
        var rented = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        Assert.Equal(5, pool.Created);

        foreach (var codec in rented)
        {
            pool.Return(codec);
        }

        Assert.Equal(2, pool.Idle);
        var again = pool.Rent();
        Assert.Contains(again, rented.Take(2));
        Assert.Equal(5, pool.Created);
        pool.Return(again);
    }

    [Fact]
    public async Task Sessions_backing_up_at_once_check_chunks_with_the_hosts_pool_and_give_every_context_back()
    {
        await using var host = await DashboardHost.StartAsync();
        var random = new Random(10);
        var devices = Enumerable.Range(0, 6).Select(i =>
        {
            var content = new byte[200_000];
            random.NextBytes(content.AsSpan(0, 100_000)); // half random, half zeros: zstd chunks and plain ones
            return host.Device($"MX7-{i:D2}", new Dictionary<string, byte[]> { ["scan.bin"] = content });
        }).ToList();

        var results = await Task.WhenAll(devices.Select(d => d.BackUpAsync()));

        Assert.All(results, r => Assert.True(r.ChunksSent > 0));
        var codecs = host.Service.Codecs;
        Assert.True(codecs.Created >= 1, "the sessions decompressed without the host's shared contexts");
        Assert.Equal(Math.Min(codecs.Created, codecs.Capacity), codecs.Idle);
    }
}
