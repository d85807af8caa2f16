using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

public sealed class ChunkOwnershipOnSqliteTests() : ChunkOwnershipTests(CatalogKind.Sqlite);

public sealed class ChunkOwnershipOnPostgresTests() : ChunkOwnershipTests(CatalogKind.Postgres);

/// <summary>
/// Ownership before dedup (issue 19): a device's writer sees the chunks its device owns and the
/// ones it sends, nothing else; what it sends is stored once and becomes its own; catalogs of
/// schema 3 give their snapshots' chunks to their devices when the store opens.
/// </summary>
public abstract class ChunkOwnershipTests(CatalogKind kind) : IAsyncLifetime
{
    private static readonly DeviceName Alpha = DeviceName.Parse("ALPHA");
    private static readonly DeviceName Beta = DeviceName.Parse("BETA");
    private readonly TempFolder _temp = new();
    private readonly ChunkCodec _codec = new();
    private TestStore _store = null!;

    public async Task InitializeAsync() => _store = await TestStore.OpenAsync(_temp["store"], _temp["scratch"], catalog: kind);

    public Task DisposeAsync()
    {
        _codec.Dispose();
        _store?.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_device_sees_only_what_it_owns_and_what_it_sends_is_stored_once_and_becomes_its_own()
    {
        var content = new byte[100_000];
        TestData.Fill(7, content);
        var id = ChunkId.Of(content);
        await BackUpAsync(Alpha, content);
        var before = Totals();

        await using (var beta = await _store.Store.BeginWriteAsync(Beta, CancellationToken.None))
        {
            Assert.Equal([-1], LookUp(beta, id));
            Assert.False(beta.TryGetRawLength(id, out _));
            Assert.True(beta.Has(id)); // the store has it: sending it again writes nothing twice

            await AddAsync(beta, content);
            Assert.Equal([content.Length], LookUp(beta, id));
            await beta.CommitAsync(TestStore.Request("BETA"), [new TreeEntry("data/g", EntryKind.File, content.Length, 1, 0, [id])], CancellationToken.None);
            Assert.Equal(1, beta.ChunksReceived);
            Assert.Equal(1, beta.NewChunks); // its tree; the data chunk was there
        }

        Assert.Equal(before.Chunks + 1, Totals().Chunks); // only the new snapshot's tree chunk
        await using (var again = await _store.Store.BeginWriteAsync(Beta, CancellationToken.None))
        {
            Assert.Equal([content.Length], LookUp(again, id));
        }

        using var catalog = _store.Store.OpenCatalog();
        Assert.Equal(1, catalog.CountOwned(Beta.Key));
        Assert.Equal(1, catalog.DeleteOwnersOf(Beta.Key));
        Assert.Equal(1, catalog.CountOwned(Alpha.Key));
    }

    [Fact]
    public async Task Opening_a_store_of_schema_3_gives_every_snapshot_s_chunks_to_its_device()
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            var content = new byte[50_000 + i];
            TestData.Fill((ulong)i + 100, content);
            files[$"data/f{i}"] = content;
        }

        // Written by the host's own writer: no owner rows, as a catalog before schema 4 has none.
        await _store.BackupAsync("ALPHA", files);
        var chunkIds = new HashSet<ChunkId>();
        foreach (var content in files.Values)
        {
            chunkIds.UnionWith(await TestStore.ChunkIdsAsync(content));
        }

        using (var catalog = _store.Store.OpenCatalog())
        {
            using var command = catalog.Connection.CreateCommand();
            command.CommandText = "DROP TABLE chunk_owners; UPDATE meta SET value = '3' WHERE key = 'catalog_schema'";
            command.ExecuteNonQuery();
        }

        // Opened again (the catalog sees version 3 and migrates), as a new build opens an old folder.
        var reopened = await ChunkStore.OpenAsync(_temp["store"], _store.Clock, PackStorage.Open(null, _temp["store"]), _store.Database);
        using (var catalog = reopened.OpenCatalog())
        {
            Assert.Equal(chunkIds.Count, catalog.CountOwned(Alpha.Key));
            Assert.Null(catalog.OwnersBackfillRange());
        }

        await using var writer = await reopened.BeginWriteAsync(Alpha, CancellationToken.None);
        Assert.DoesNotContain(-1, LookUp(writer, [.. chunkIds]));
    }

    private async Task BackUpAsync(DeviceName device, byte[] content)
    {
        await using var writer = await _store.Store.BeginWriteAsync(device, CancellationToken.None);
        await AddAsync(writer, content);
        await writer.CommitAsync(TestStore.Request(device.Value), [new TreeEntry("data/f", EntryKind.File, content.Length, 1, 0, [ChunkId.Of(content)])], CancellationToken.None);
    }

    private async Task AddAsync(StoreWriter writer, byte[] content)
    {
        var (compression, data) = _codec.Compress(content);
        await writer.AddAsync(ChunkId.Of(content), compression, data.ToArray(), content, CancellationToken.None);
    }

    private static int[] LookUp(StoreWriter writer, params ChunkId[] ids)
    {
        var lengths = new int[ids.Length];
        writer.LookUp(ids, lengths);
        return lengths;
    }

    private StoreTotals Totals()
    {
        using var catalog = _store.Store.OpenCatalog();
        return catalog.Totals();
    }
}
