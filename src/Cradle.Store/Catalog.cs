using System.Data.Common;
using System.Data;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// The store's index: packs, where each chunk sits, and snapshots, in SQLite or PostgreSQL
/// (<see cref="CatalogDatabase"/>). One instance is one connection; give each concurrent session
/// its own. The SQL is written once for both engines (<c>@name</c> parameters, <c>ON CONFLICT</c>,
/// <c>RETURNING</c>); the database's constraints and transactions, not locks in this process,
/// keep several writers (sessions, or hosts sharing PostgreSQL) from double-counting. Microsoft.Data.Sqlite's
/// async methods run synchronously, so this class is synchronous and honest about it.
/// </summary>
internal sealed partial class Catalog : IDisposable
{
    /// <summary>
    /// The catalog schema this build writes and reads: the newest step below. A new step is one
    /// named constant and one migration method, applied after the ones before it.
    /// </summary>
    public const int SchemaVersion = SchemaPartialSnapshots;

    /// <summary>Schema 2: condemned chunks, retired packs, leases and the epoch (<see cref="MigrateToLeases"/>).</summary>
    public const int SchemaLeases = 2;

    /// <summary>
    /// Schema 3: chunk rows may name compression groups (<see cref="ChunkCompression.ZstdGroup"/>,
    /// in pack format v2), which builds of schema 2 cannot read; the tables are those of 2.
    /// </summary>
    public const int SchemaCompressionGroups = 3;

    /// <summary>
    /// Schema 5: partial snapshots. A snapshot records what the device could not read
    /// (<c>snapshot_problems</c>, and their count in <c>snapshots.problems</c>), the file count of
    /// the complete snapshot it was compared with (<c>previous_files</c>), and when a backup last
    /// found exactly its files again (<c>verified_ms</c>: nothing changed, no new snapshot).
    /// Builds of schema 4 would show a partial snapshot as whole, so they must refuse the catalog.
    /// (Schema 4, between them, is <see cref="OwnersSchemaVersion"/>: which device may name which chunk.)
    /// </summary>
    public const int SchemaPartialSnapshots = 5;

    private readonly DbConnection _connection;
    private readonly CatalogDatabase _database;
    private DbCommand? _hasChunk;
    private DbCommand? _findChunk;
    private DbCommand? _lookUp;

    private Catalog(CatalogDatabase database, DbConnection connection)
    {
        _database = database;
        _connection = connection;
    }

    internal DbConnection Connection => _connection;

    /// <summary>Opens (creating when new) the SQLite catalog database at <paramref name="path"/>.</summary>
    public static Catalog Open(string path) => Open(CatalogDatabase.SqliteFile(path));

    /// <summary>Opens a connection to <paramref name="database"/>, creating or migrating the schema when needed.</summary>
    public static Catalog Open(CatalogDatabase database)
    {
        var catalog = new Catalog(database, database.OpenConnection());
        try
        {
            catalog.EnsureSchema();
        }
        catch
        {
            catalog.Dispose();
            throw;
        }

        return catalog;
    }

    /// <summary>The key of the catalog's schema version in <c>meta</c>.</summary>
    public const string SchemaKey = "catalog_schema";

    /// <summary>The catalog's schema: created at <see cref="OwnersSchemaVersion"/>, then one step after the other.</summary>
    private SchemaRunner Schema() => new(
        "catalog",
        SchemaKey,
        OwnersSchemaVersion,
        (_, tx) => CreateTables(tx),
        [
            new(SchemaLeases, (_, tx) => MigrateToLeases(tx)),
            // Schema 3 changes no table: it keeps builds that cannot read compression groups
            // away from a catalog whose chunks may be in them.
            new(SchemaCompressionGroups, (_, _) => { }),
            new(OwnersSchemaVersion, (_, tx) => MigrateToOwners(tx)),
            new(SchemaPartialSnapshots, (_, tx) => MigrateToPartialSnapshots(tx)),
        ],
        " (upgrade Cradle to open it)");

    private void EnsureSchema() => Schema().Ensure(_database, _connection);

    /// <summary>The tables of a new catalog, as of <see cref="OwnersSchemaVersion"/> (the steps after it then run).</summary>
    private void CreateTables(DbTransaction tx)
    {
        var db = _database;

        // "offset" is quoted: PostgreSQL reserves the word (SQLite accepts it either way).
        foreach (var statement in (string[])[
            $"CREATE TABLE packs(id {db.RowKey}, name TEXT NOT NULL UNIQUE, size {db.BigInt} NOT NULL, created_ms {db.BigInt} NOT NULL, retired {db.BigInt})",
            $"""
            CREATE TABLE chunks(
              id {db.Blob} PRIMARY KEY,
              pack {db.BigInt} NOT NULL REFERENCES packs(id),
              "offset" {db.BigInt} NOT NULL,
              stored {db.BigInt} NOT NULL,
              raw {db.BigInt} NOT NULL,
              compression {db.BigInt} NOT NULL,
              condemned {db.BigInt}){db.KeyedTable}
            """,
            "CREATE INDEX chunks_pack ON chunks(pack)",
            $"""
            CREATE TABLE snapshots(
              id {db.AutoKey},
              device_key TEXT NOT NULL,
              device TEXT NOT NULL,
              number {db.BigInt} NOT NULL,
              link TEXT NOT NULL,
              started_ms {db.BigInt} NOT NULL,
              time_ms {db.BigInt} NOT NULL,
              files {db.BigInt} NOT NULL,
              bytes {db.BigInt} NOT NULL,
              tree {db.Blob} NOT NULL,
              suspect {db.BigInt} NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX snapshots_device ON snapshots(device_key, id)",
            .. LeaseTables(db),
            OwnersTable(db)])
        {
            Execute(statement, tx);
        }
    }

    /// <summary>
    /// Schema 2 adds what prune needs to run beside backups (storage.md §3, scale.md): condemned
    /// chunks, retired packs, leases and the epoch. Catalogs made before snapshots were flagged
    /// lack the suspect column too.
    /// </summary>
    private void MigrateToLeases(DbTransaction tx)
    {
        var db = _database;
        if (!db.HasColumn(_connection, tx, "snapshots", "suspect"))
        {
            Execute("ALTER TABLE snapshots ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0", tx);
        }

        foreach (var statement in (string[])[
            $"ALTER TABLE chunks ADD COLUMN condemned {db.BigInt}",
            $"ALTER TABLE packs ADD COLUMN retired {db.BigInt}",
            .. LeaseTables(db)])
        {
            Execute(statement, tx);
        }
    }

    /// <summary>
    /// Schema 4 to <see cref="SchemaPartialSnapshots"/>, inside the schema transaction: every
    /// existing snapshot is whole (no problems), never verified again, compared with nothing.
    /// Each addition is made only when missing, so a catalog whose version was set back by hand
    /// (or restored from a copy taken mid-upgrade) is brought forward all the same.
    /// </summary>
    private void MigrateToPartialSnapshots(DbTransaction tx)
    {
        var db = _database;
        foreach (var (column, type) in (ReadOnlySpan<(string, string)>)[("problems", $"{db.BigInt} NOT NULL DEFAULT 0"), ("previous_files", db.BigInt), ("verified_ms", db.BigInt)])
        {
            if (!db.HasColumn(_connection, tx, "snapshots", column))
            {
                Execute($"ALTER TABLE snapshots ADD COLUMN {column} {type}", tx);
            }
        }

        foreach (var statement in (string[])[
            $"""
            CREATE TABLE IF NOT EXISTS snapshot_problems(
              snapshot {db.BigInt} NOT NULL,
              seq {db.BigInt} NOT NULL,
              path TEXT NOT NULL,
              reason TEXT NOT NULL,
              folder {db.BigInt} NOT NULL,
              carried {db.BigInt} NOT NULL,
              from_snapshot {db.BigInt},
              PRIMARY KEY(snapshot, seq))
            """])
        {
            Execute(statement, tx);
        }
    }

    /// <summary>True when the catalog knows a durable copy of the chunk.</summary>
    public bool HasChunk(ChunkId id) => TryGetRawLength(id, out _);

    /// <summary>The chunk's uncompressed length when the catalog knows a durable copy of it.</summary>
    public bool TryGetRawLength(ChunkId id, out int rawLength)
    {
        // A condemned chunk (prune found no snapshot needing it) is absent to new backups: they
        // send it again, and their commit takes the row back (Commit's upsert).
        _hasChunk ??= Prepare("SELECT raw FROM chunks WHERE id = @id AND condemned IS NULL");
        _hasChunk.Parameters[0].Value = id.ToArray();
        var value = _hasChunk.ExecuteScalar();
        rawLength = value is long raw ? (int)raw : 0;
        return value is not null;
    }

    /// <summary>
    /// The raw lengths of those of <paramref name="ids"/> the catalog knows a durable copy of, in
    /// one statement: one round trip to PostgreSQL and one set of SQLite's locks for a whole
    /// chunk query, all ids read at one instant. Condemned chunks are absent, as in
    /// <see cref="TryGetRawLength"/>.
    /// </summary>
    public Dictionary<ChunkId, int> GetRawLengths(IReadOnlyList<ChunkId> ids)
    {
        var found = new Dictionary<ChunkId, int>(ids.Count);
        if (ids.Count == 0)
        {
            return found;
        }

        // The ids travel as one blob, cut apart by a counting CTE: the same SQL on both engines,
        // no array types, no statement per id.
        var packed = new byte[ids.Count * ChunkId.Length];
        for (var i = 0; i < ids.Count; i++)
        {
            ids[i].WriteTo(packed.AsSpan(i * ChunkId.Length, ChunkId.Length));
        }

        if (_lookUp is null)
        {
            _lookUp = Command(
                RangeOfIds +
                $"SELECT c.id, c.raw FROM n JOIN chunks c ON c.id = substr(@ids, (n.i * {ChunkId.Length}) + 1, {ChunkId.Length}) WHERE c.condemned IS NULL");
            _lookUp.AddParameter("@count", DbType.Int32);
            _lookUp.AddParameter("@ids", DbType.Binary);
            _lookUp.Prepare();
        }

        _lookUp.Parameters[0].Value = ids.Count;
        _lookUp.Parameters[1].Value = packed;
        using var reader = _lookUp.ExecuteReader();
        while (reader.Read())
        {
            found[ChunkId.Read((byte[])reader.GetValue(0))] = (int)reader.GetInt64(1);
        }

        return found;
    }

    /// <summary>Where a chunk is stored, or null when the catalog does not have it.</summary>
    public ChunkLocation? FindChunk(ChunkId id)
    {
        _findChunk ??= Prepare("SELECT p.name, c.\"offset\", c.stored, c.raw, c.compression FROM chunks c JOIN packs p ON p.id = c.pack WHERE c.id = @id");
        _findChunk.Parameters[0].Value = id.ToArray();
        using var reader = _findChunk.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new ChunkLocation(reader.GetString(0), new PackEntry(id, reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3), (ChunkCompression)reader.GetInt64(4)));
    }

    /// <summary>
    /// Records a sealed pack and its chunks, and the snapshot that needs them when there is
    /// one, in one transaction: the snapshot exists whole or not at all. With
    /// <paramref name="lease"/>, a snapshot commits only while the session's lease is alive
    /// (renewed in the same transaction): once it has expired, prune may have deleted chunks
    /// the session counted on.
    /// </summary>
    /// <remarks><paramref name="owners"/>: chunks a device sent since the last commit, recorded as its own in the same transaction.</remarks>
    internal long? Commit(SealedPack? pack, NewSnapshot? snapshot, long nowMs, long? lease = null, ChunkOwners? owners = null)
    {
        using var tx = _connection.BeginTransaction();
        if (snapshot is not null && lease is { } leaseId)
        {
            using var renew = Command("UPDATE leases SET renewed_ms = @now WHERE id = @id", tx);
            renew.AddParameter("@now", nowMs);
            renew.AddParameter("@id", leaseId);
            if (renew.ExecuteNonQuery() != 1)
            {
                throw new CradleException($"this backup's lease on the store expired (the session went {StoreLease.Timeout.TotalMinutes:0} minutes without renewing it) and prune may have removed data it counted on: nothing was committed; back up again", isTransient: true);
            }
        }

        if (pack is not null)
        {
            // A chunk another writer committed first keeps its row: the first copy wins, this one
            // is garbage for prune. A condemned row (prune waiting to delete it) is taken over by
            // the new copy and lives again.
            InsertPack(pack, nowMs, """
                INSERT INTO chunks(id, pack, "offset", stored, raw, compression) VALUES(@id, @pack, @offset, @stored, @raw, @compression)
                ON CONFLICT(id) DO UPDATE SET pack = excluded.pack, "offset" = excluded."offset", stored = excluded.stored, raw = excluded.raw,
                  compression = excluded.compression, condemned = NULL
                WHERE chunks.condemned IS NOT NULL
                """, tx);
        }

        if (owners is not null)
        {
            RecordOwnersIn(owners.OwnerKey, owners.Ids, tx);
        }

        long? snapshotId = null;
        if (snapshot is not null)
        {
            // A backup in which most files vanished at once (a folder unmounted, say) is kept but
            // flagged, and prune never lets it push out the last complete snapshot.
            // Compared with the newest complete snapshot: a second shrunken backup in a row must
            // not become the "complete" one that lets prune drop the last full set.
            using var previous = Command("SELECT files FROM snapshots WHERE device_key = @key AND suspect = 0 ORDER BY id DESC LIMIT 1", tx);
            previous.AddParameter("@key", snapshot.Device.Key);
            var before = previous.ExecuteScalar() as long?;
            var suspect = before is { } filesBefore && IsSuspect(filesBefore, snapshot.Files);
            using var insert = Command("""
                INSERT INTO snapshots(device_key, device, number, link, started_ms, time_ms, files, bytes, tree, suspect, problems, previous_files)
                VALUES(@key, @device, @number, @link, @started, @time, @files, @bytes, @tree, @suspect, @problems, @previous) RETURNING id
                """, tx);
            insert.AddParameter("@suspect", suspect ? 1 : 0);
            insert.AddParameter("@key", snapshot.Device.Key);
            insert.AddParameter("@device", snapshot.Device.Value);
            insert.AddParameter("@number", (long)snapshot.Number);
            insert.AddParameter("@link", snapshot.Link);
            insert.AddParameter("@started", snapshot.StartedMs);
            insert.AddParameter("@time", nowMs);
            insert.AddParameter("@files", snapshot.Files);
            insert.AddParameter("@bytes", snapshot.Bytes);
            insert.AddParameter("@tree", ChunkIds.Concat(snapshot.Tree));
            insert.AddParameter("@problems", (long)(snapshot.Problems?.Count ?? 0));
            insert.AddParameter("@previous", before);
            snapshotId = (long)insert.ExecuteScalar()!;
            InsertProblems(snapshotId.Value, snapshot.Problems ?? [], tx);
        }

        tx.Commit();
        return snapshotId;
    }

    /// <summary>
    /// Inserts a sealed pack's row, then runs <paramref name="chunkSql"/> (with @id, @pack,
    /// @offset, @stored, @raw, @compression) for each of its entries: new chunk rows at commit,
    /// moved rows at repack. Entries go in chunk id order: two writers committing overlapping
    /// chunks at once then wait for each other's rows in the same order, never in a cycle
    /// (PostgreSQL would otherwise end one of them as a deadlock).
    /// </summary>
    private long InsertPack(SealedPack pack, long nowMs, string chunkSql, DbTransaction tx)
    {
        using var insertPack = Command("INSERT INTO packs(name, size, created_ms) VALUES(@name, @size, @now) RETURNING id", tx);
        insertPack.AddParameter("@name", pack.Name);
        insertPack.AddParameter("@size", pack.Size);
        insertPack.AddParameter("@now", nowMs);
        var packId = (long)insertPack.ExecuteScalar()!;
        using var chunk = Command(chunkSql, tx);
        var pId = chunk.AddParameter("@id", DbType.Binary);
        chunk.AddParameter("@pack", packId);
        var pOffset = chunk.AddParameter("@offset", DbType.Int64);
        var pStored = chunk.AddParameter("@stored", DbType.Int64);
        var pRaw = chunk.AddParameter("@raw", DbType.Int64);
        var pCompression = chunk.AddParameter("@compression", DbType.Int64);
        chunk.Prepare();
        foreach (var e in pack.Entries.OrderBy(e => e.Id))
        {
            pId.Value = e.Id.ToArray();
            pOffset.Value = e.Offset;
            pStored.Value = (long)e.StoredLength;
            pRaw.Value = (long)e.RawLength;
            pCompression.Value = (long)e.Compression;
            chunk.ExecuteNonQuery();
        }

        return packId;
    }

    /// <summary>Most of the files vanished since the previous snapshot: at least 10 before, fewer than half now.</summary>
    public static bool IsSuspect(long filesBefore, long filesNow) => filesBefore >= 10 && filesNow * 2 < filesBefore;

    private DbCommand Prepare(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.AddParameter("@id", DbType.Binary);
        command.Prepare();
        return command;
    }

    private DbCommand Command(string sql, DbTransaction? tx = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    private void Execute(string sql, DbTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql, DbTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        return command.ExecuteScalar() as string;
    }

    public void Dispose()
    {
        _hasChunk?.Dispose();
        _findChunk?.Dispose();
        _lookUp?.Dispose();
        _ownedLookUp?.Dispose();
        _ownedOne?.Dispose();
        _recordOwners?.Dispose();
        _connection.Dispose();
    }
}

/// <summary>A chunk's place: the pack file (relative to the packs folder) and its record.</summary>
internal sealed record ChunkLocation(string PackName, PackEntry Entry);

/// <summary>A pack that has been sealed and flushed to disk, ready to be named by the catalog.</summary>
internal sealed record SealedPack(string Name, long Size, IReadOnlyList<PackEntry> Entries);

/// <summary>Chunks that become <see cref="OwnerKey"/>'s (a device name's key) with a commit.</summary>
internal sealed record ChunkOwners(string OwnerKey, IReadOnlyList<ChunkId> Ids);

/// <summary>A snapshot about to be committed; <c>Problems</c>: what the device could not read (a partial snapshot).</summary>
internal sealed record NewSnapshot(DeviceName Device, uint Number, string Link, long StartedMs, long Files, long Bytes, IReadOnlyList<ChunkId> Tree, IReadOnlyList<SnapshotProblem>? Problems = null);

/// <summary>Helpers for lists of chunk ids stored as one blob.</summary>
internal static class ChunkIds
{
    public static byte[] Concat(IReadOnlyList<ChunkId> ids)
    {
        var blob = new byte[ids.Count * ChunkId.Length];
        for (var i = 0; i < ids.Count; i++)
        {
            ids[i].WriteTo(blob.AsSpan(i * ChunkId.Length));
        }

        return blob;
    }

    public static ChunkId[] Split(ReadOnlySpan<byte> blob)
    {
        if (blob.Length % ChunkId.Length != 0)
        {
            throw new StoreFormatException($"a list of chunk ids has {blob.Length} bytes, not a multiple of {ChunkId.Length}: damaged");
        }

        var ids = new ChunkId[blob.Length / ChunkId.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = ChunkId.Read(blob.Slice(i * ChunkId.Length, ChunkId.Length));
        }

        return ids;
    }
}
