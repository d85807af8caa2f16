using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>
/// A writer gives its catalog connection and its lease back as soon as its snapshot is committed,
/// before the session that owns it ends: a host with as many backups as its connection pool holds
/// must still be able to record each one's "last backup" (the fleet load emptied a pool of 100
/// with 100 sessions that each held one connection while asking for a second).
/// </summary>
public sealed class WriterReleaseTests : IDisposable
{
    private readonly TempFolder _temp = new();

    [Fact]
    public async Task On_a_pool_of_one_connection_the_catalog_opens_after_a_commit_while_the_writer_is_not_yet_disposed()
    {
        // Timeout: how long Npgsql waits for a free connection before giving up.
        using var database = CatalogDatabase.Open(TestCatalogs.NewSetting(CatalogKind.Postgres) + ";Maximum Pool Size=1;Timeout=3", _temp.Path);
        await CommitThenAssertReleasedAsync(database);
    }

    [Fact]
    public async Task On_sqlite_the_lease_is_released_at_the_commit()
    {
        using var database = TestCatalogs.Create(CatalogKind.Sqlite, _temp.Path);
        await CommitThenAssertReleasedAsync(database);
    }

    private async Task CommitThenAssertReleasedAsync(CatalogDatabase database)
    {
        var store = await ChunkStore.OpenAsync(_temp.Path, TimeProvider.System, PackStorage.Open(null, _temp.Path), database);
        await using var writer = await store.BeginWriteAsync(CancellationToken.None);
        var content = TestData.Bytes(7, 200_000);
        var ids = new List<ChunkId>();
        using var codec = new ChunkCodec();
        var chunker = new Chunker(new MemoryStream(content, writable: false));
        while (await chunker.MoveNextAsync(CancellationToken.None))
        {
            var id = ChunkId.Of(chunker.Current.Span);
            ids.Add(id);
            var (compression, data) = codec.Compress(chunker.Current);
            await writer.AddAsync(id, compression, data, chunker.Current, CancellationToken.None);
        }

        var snapshot = await writer.CommitAsync(TestStore.Request("MX7-01"), [new TreeEntry("a.bin", EntryKind.File, content.Length, 0, 0, [.. ids])], CancellationToken.None);

        using var catalog = store.OpenCatalog(); // with the writer's connection still held, this waits and fails
        Assert.Equal(0, catalog.LiveLeases());
        Assert.Equal(snapshot, Assert.Single(catalog.ListSnapshots()).Id);
    }

    public void Dispose() => _temp.Dispose();
}
