using Cradle.Protocol;

namespace Cradle.Store.Tests;

/// <summary>The decompressed groups shared by a store's readers, and the buffers they live in.</summary>
public sealed class GroupCacheTests
{
    [Fact]
    public async Task A_group_asked_for_again_is_not_decompressed_again()
    {
        var cache = new GroupCache();
        var loads = 0;
        for (var i = 0; i < 3; i++)
        {
            using var lease = await cache.GetAsync("ab/pack", 28, () =>
            {
                loads++;
                return Task.FromResult(Group(7));
            });
            Assert.Equal(7, lease.Group.Raw[0]);
        }

        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task A_groups_bytes_are_not_reused_while_a_reader_holds_them_even_after_it_left_the_cache()
    {
        var cache = new GroupCache();
        using (var held = await cache.GetAsync("ab/pack", 28, () => Task.FromResult(Group(1))))
        {
            // Push it out of the cache: its buffer must not be handed to the groups that follow.
            for (var i = 1; i <= GroupCache.MinCapacity + 2; i++)
            {
                var fill = (byte)(i + 1);
                using var other = await cache.GetAsync("ab/pack", 28 + (i * 1000), () => Task.FromResult(Group(fill)));
                Assert.Equal(fill, other.Group.Raw[999]);
            }

            Assert.All(held.Group.Raw.AsSpan(0, 1000).ToArray(), b => Assert.Equal(1, b));
        }

        // Released and out of the cache: asked for again, it is decompressed again.
        var loads = 0;
        using var again = await cache.GetAsync("ab/pack", 28, () =>
        {
            loads++;
            return Task.FromResult(Group(1));
        });
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task A_group_that_fails_to_decompress_is_not_kept()
    {
        var cache = new GroupCache();
        await Assert.ThrowsAsync<StoreCorruptException>(async () => await cache.GetAsync("ab/pack", 28, () => Task.FromException<DecodedGroup>(new StoreCorruptException("damaged"))));
        using var lease = await cache.GetAsync("ab/pack", 28, () => Task.FromResult(Group(3)));
        Assert.Equal(3, lease.Group.Raw[0]);
    }

    [Fact]
    public async Task Several_readers_each_reading_its_own_group_in_turn_decompress_each_group_once()
    {
        // A host serving eight restores at once: eight readers, each reading the chunks of its
        // own group, their reads interleaved chunk by chunk. With room for four groups only,
        // every read evicted the group another reader needed next: 8 × 10 decompressions.
        const int readers = 8;
        var cache = new GroupCache();
        for (var r = 0; r < readers; r++)
        {
            cache.AddReader();
        }

        var loads = 0;
        for (var chunk = 0; chunk < 10; chunk++)
        {
            for (var r = 0; r < readers; r++)
            {
                var fill = (byte)(r + 1);
                using var lease = await cache.GetAsync("ab/pack", 28 + (r * 1000), () =>
                {
                    loads++;
                    return Task.FromResult(Group(fill));
                });
                Assert.Equal(fill, lease.Group.Raw[chunk]);
            }
        }

        Assert.Equal(readers, loads);
    }

    [Fact]
    public async Task The_cache_grows_with_its_readers_within_bounds_and_shrinks_when_they_close()
    {
        var cache = new GroupCache();
        Assert.Equal(GroupCache.MinCapacity, cache.Capacity);
        for (var r = 0; r < GroupCache.MaxCapacity + 5; r++)
        {
            cache.AddReader();
            using var lease = await cache.GetAsync("ab/pack", r * 1000, () => Task.FromResult(Group(1)));
        }

        Assert.Equal(GroupCache.MaxCapacity, cache.Capacity);
        Assert.Equal(GroupCache.MaxCapacity, cache.Count);
        for (var r = 0; r < GroupCache.MaxCapacity + 5; r++)
        {
            cache.RemoveReader();
        }

        // The groups the closed readers' room held leave with them, and give their buffers back.
        Assert.Equal(GroupCache.MinCapacity, cache.Capacity);
        Assert.Equal(GroupCache.MinCapacity, cache.Count);
    }

    private static DecodedGroup Group(byte fill)
    {
        var raw = GroupCache.RentBuffer(1000);
        raw.AsSpan(0, 1000).Fill(fill);
        return new DecodedGroup(new PackGroup([ChunkId.Of([fill])], [0, 1000], 0), raw);
    }
}
