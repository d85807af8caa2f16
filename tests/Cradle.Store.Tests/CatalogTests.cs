using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>The catalog on SQLite (the default) and on PostgreSQL: the same tests, two engines.</summary>
public sealed class CatalogTestsOnSqlite() : CatalogTests(CatalogKind.Sqlite);

public sealed class CatalogTestsOnPostgres() : CatalogTests(CatalogKind.Postgres);

public abstract class CatalogTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly CatalogDatabase _database;

    protected CatalogTests(CatalogKind kind)
    {
        _database = TestCatalogs.Create(kind, _temp.Path);
    }

    public void Dispose()
    {
        _database.Dispose();
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Opening_twice_is_fine_one_after_the_other_and_side_by_side()
    {
        using (Catalog.Open(_database))
        {
        }

        using var first = Catalog.Open(_database);
        using var second = Catalog.Open(_database);
        Assert.Equal(0, first.Totals().Chunks);
        Assert.Empty(second.ListSnapshots());
    }

    [Fact]
    public async Task A_catalog_of_an_unknown_schema_version_is_refused_with_a_clear_message()
    {
        using (var catalog = Catalog.Open(_database))
        {
            using var command = catalog.Connection.CreateCommand();
            command.CommandText = "UPDATE meta SET value = '99' WHERE key = 'catalog_schema'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var e = Assert.Throws<StoreFormatException>(() => Catalog.Open(_database));
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
        Assert.Contains($"versions 1 to {Catalog.SchemaVersion} only", e.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreFormatException>(() => ChunkStore.OpenAsync(_temp.Path, database: _database));
    }

    [Fact]
    public void A_catalog_of_schema_2_is_migrated_to_the_current_schema_so_that_builds_without_compression_groups_or_owners_refuse_it()
    {
        using (var catalog = Catalog.Open(_database))
        {
            using var command = catalog.Connection.CreateCommand();
            command.CommandText = "UPDATE meta SET value = '2' WHERE key = 'catalog_schema'; DROP TABLE chunk_owners";
            command.ExecuteNonQuery();
        }

        using (var catalog = Catalog.Open(_database))
        {
            using var command = catalog.Connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = 'catalog_schema'";
            Assert.Equal(Catalog.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), command.ExecuteScalar());
            Assert.Equal(0, catalog.Totals().Chunks);
            Assert.Equal(0, catalog.CountOwned("ANY"));
        }
    }

    [Fact]
    public void A_catalog_of_schema_3_is_migrated_to_the_current_schema_and_its_snapshots_read_as_complete()
    {
        Assert.Equal(5, Catalog.SchemaPartialSnapshots);
        using (var catalog = Catalog.Open(_database))
        {
            // A schema 3 catalog with one snapshot, as a build before partial snapshots left it.
            foreach (var sql in (string[])[
                "INSERT INTO snapshots(device_key, device, number, link, started_ms, time_ms, files, bytes, tree) VALUES('MX7-01', 'MX7-01', 7, 'usb', 1, 2, 3, 4, @tree)",
                "DROP TABLE snapshot_problems",
                "ALTER TABLE snapshots DROP COLUMN problems",
                "ALTER TABLE snapshots DROP COLUMN previous_files",
                "ALTER TABLE snapshots DROP COLUMN verified_ms",
                "UPDATE meta SET value = '3' WHERE key = 'catalog_schema'"])
            {
                using var command = catalog.Connection.CreateCommand();
                command.CommandText = sql;
                command.AddParameter("@tree", new byte[32]);
                command.ExecuteNonQuery();
            }
        }

        using (var catalog = Catalog.Open(_database))
        {
            var old = Assert.Single(catalog.ListSnapshots());
            Assert.Equal((3L, false, false, 0L, (DateTimeOffset?)null), (old.Files, old.Partial, old.Flagged, old.Problems, old.Verified));
            Assert.Empty(catalog.ListProblems(old.Id));
            Assert.True(catalog.MarkVerified(old.Id, 1_000));
            using var command = catalog.Connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = 'catalog_schema'";
            Assert.Equal(Catalog.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), command.ExecuteScalar());
        }
    }

    [Fact]
    public async Task Once_the_schema_was_checked_a_new_connection_does_not_wait_for_the_schema_lock()
    {
        using (Catalog.Open(_database))
        {
        }

        // What a host creating or migrating the schema holds: the schema lock (PostgreSQL's
        // advisory lock) and a write in its transaction (SQLite's write lock).
        using var holder = _database.OpenConnection();
        using var hold = holder.BeginTransaction();
        _database.LockSchema(holder, hold);
        using (var write = holder.CreateCommand())
        {
            write.Transaction = hold;
            write.CommandText = "UPDATE meta SET value = value WHERE key = 'catalog_schema'";
            write.ExecuteNonQuery();
        }

        // Every session opens a connection: before, each queued here for the whole migration.
        using var second = await Task.Run(() => Catalog.Open(_database)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, second.Totals().Chunks);
        hold.Rollback();
    }

    [Fact]
    public void A_commit_records_the_pack_its_chunks_and_the_snapshot_together()
    {
        using var catalog = Catalog.Open(_database);
        var a = ChunkId.Of("a"u8);
        var b = ChunkId.Of("b"u8);
        var pack = new SealedPack("ab/abcd.pack", 500, [new PackEntry(a, 28, 10, 20, ChunkCompression.Zstd), new PackEntry(b, 79, 5, 5, ChunkCompression.None)]);
        var snapshot = new NewSnapshot(DeviceName.Parse("Mx7"), 0xDEADBEEF, "tcp", 1000, 2, 25, [b, a]);

        var id = catalog.Commit(pack, snapshot, nowMs: 2000);

        Assert.NotNull(id);
        Assert.True(catalog.HasChunk(a));
        Assert.True(catalog.TryGetRawLength(b, out var raw) && raw == 5);
        Assert.Equal(new ChunkLocation("ab/abcd.pack", new PackEntry(a, 28, 10, 20, ChunkCompression.Zstd)), catalog.FindChunk(a));
        Assert.Null(catalog.FindChunk(ChunkId.Of("c"u8)));
        var info = Assert.Single(catalog.ListSnapshots("MX7"));
        Assert.Equal(info, catalog.GetSnapshot(id.Value)!, SnapshotComparer.Instance);
        Assert.Equal("Mx7", info.Device);
        Assert.Equal(0xDEADBEEFu, info.Number);
        Assert.Equal("tcp", info.Link);
        Assert.Equal(1000, info.Started.ToUnixTimeMilliseconds());
        Assert.Equal(2000, info.Time.ToUnixTimeMilliseconds());
        Assert.Equal((2L, 25L), (info.Files, info.Bytes));
        Assert.Equal(new[] { b, a }, info.Tree);
        Assert.Equal(new StoreTotals(1, 500, 2, 15, 25), catalog.Totals());
        Assert.Empty(catalog.ListSnapshots("OTHER"));
    }

    [Fact]
    public void A_whole_chunk_query_is_looked_up_at_once_without_condemned_chunks()
    {
        using var catalog = Catalog.Open(_database);
        var stored = Enumerable.Range(0, 3000).Select(i => ChunkId.Of(BitConverter.GetBytes(i))).ToList();
        catalog.Commit(new SealedPack("big.pack", 1, [.. stored.Select((id, i) => new PackEntry(id, i, 1, 100 + i, ChunkCompression.None))]), null, 1);
        catalog.Condemn([stored[7]]);

        // The most one query may carry: the stored ids, ids never stored, and repeats.
        var asked = stored.Concat(Enumerable.Range(5000, 1000).Select(i => ChunkId.Of(BitConverter.GetBytes(i)))).Concat(stored.Take(96)).ToList();
        Assert.Equal(4096, asked.Count);

        var found = catalog.GetRawLengths(asked);

        Assert.Equal(2999, found.Count);
        Assert.False(found.ContainsKey(stored[7]));
        Assert.All(Enumerable.Range(0, 3000).Where(i => i != 7), i => Assert.Equal(100 + i, found[stored[i]]));
        Assert.Empty(catalog.GetRawLengths([]));
        Assert.Empty(catalog.GetRawLengths([ChunkId.Of("never"u8)]));
    }

    [Fact]
    public void A_commit_without_a_snapshot_records_chunks_only()
    {
        using var catalog = Catalog.Open(_database);
        var a = ChunkId.Of("a"u8);

        Assert.Null(catalog.Commit(new SealedPack("p.pack", 100, [new PackEntry(a, 28, 1, 1, ChunkCompression.None)]), null, 1));

        Assert.True(catalog.HasChunk(a));
        Assert.Empty(catalog.ListSnapshots());
    }

    [Fact]
    public void Forgetting_a_device_deletes_its_snapshots_only()
    {
        using var catalog = Catalog.Open(_database);
        catalog.Commit(null, new NewSnapshot(DeviceName.Parse("one"), 1, "tcp", 0, 0, 0, []), 1);
        catalog.Commit(null, new NewSnapshot(DeviceName.Parse("ONE"), 1, "tcp", 0, 0, 0, []), 2);
        catalog.Commit(null, new NewSnapshot(DeviceName.Parse("two"), 2, "tcp", 0, 0, 0, []), 3);

        Assert.Equal(2, catalog.DeleteSnapshotsOf("ONE"));

        Assert.Equal("two", Assert.Single(catalog.ListSnapshots()).Device);
    }

    [Fact]
    public void Hosts_starting_at_once_on_a_new_database_make_the_schema_once()
    {
        // Each Open is a host starting: its own connection, creating the schema if there is none.
        var opened = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(6).Select(_ =>
        {
            using var catalog = Catalog.Open(_database);
            return catalog.Totals().Chunks;
        }).ToList();

        Assert.Equal(6, opened.Count);
        Assert.All(opened, chunks => Assert.Equal(0, chunks));
    }

    [Fact]
    public void Two_writers_committing_the_same_chunks_at_once_record_each_chunk_once_and_every_pack()
    {
        // Two sessions (or two hosts sharing the catalog) store overlapping data at the same time,
        // one in id order and one in reverse: the first copy of a chunk wins, the other's rows are
        // skipped, never an error, a double count or a deadlock.
        var ids = Enumerable.Range(0, 400).Select(i => ChunkId.Of(BitConverter.GetBytes(i))).ToArray();
        const int Rounds = 10;
        var errors = new List<Exception>();
        using var together = new Barrier(2);
        void Write(int writer)
        {
            try
            {
                using var catalog = Catalog.Open(_database);
                for (var round = 0; round < Rounds; round++)
                {
                    together.SignalAndWait();
                    var slice = ids.Skip(round * 30).Take(100).Select((id, i) => new PackEntry(id, 28 + (i * 10), 10, 20, ChunkCompression.None));
                    var entries = writer == 0 ? slice.ToList() : slice.Reverse().ToList();
                    catalog.Commit(new SealedPack($"w{writer}/r{round}.pack", 5000, entries), null, round);
                }
            }
            catch (Exception e)
            {
                lock (errors)
                {
                    errors.Add(e);
                }

                together.RemoveParticipant();
            }
        }

        var threads = new[] { new Thread(() => Write(0)), new Thread(() => Write(1)) };
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        Assert.Empty(errors);
        using var check = Catalog.Open(_database);
        var expected = ids.Take(((Rounds - 1) * 30) + 100).ToHashSet();
        var rows = check.ListChunks().ToList();
        Assert.Equal(expected.Count, rows.Count);
        Assert.True(expected.SetEquals(rows.Select(r => r.Entry.Id)));
        Assert.Equal(2 * Rounds, check.ListPacks().Count);
        Assert.Empty(check.ChunksWithoutPack());
        Assert.Equal(expected.Count * 20L, check.Totals().RawBytes);
    }

    [Fact]
    public void A_damaged_list_of_chunk_ids_is_refused()
    {
        Assert.Throws<StoreFormatException>(() => ChunkIds.Split(new byte[33]));
        var ids = new[] { ChunkId.Of("a"u8), ChunkId.Of("b"u8) };
        Assert.Equal(ids, ChunkIds.Split(ChunkIds.Concat(ids)));
    }

    private sealed class SnapshotComparer : IEqualityComparer<SnapshotInfo>
    {
        public static readonly SnapshotComparer Instance = new();

        public bool Equals(SnapshotInfo? x, SnapshotInfo? y) =>
            x is not null && y is not null && x with { Tree = [] } == y with { Tree = [] } && x.Tree.SequenceEqual(y.Tree);

        public int GetHashCode(SnapshotInfo obj) => obj.Id.GetHashCode();
    }
}
