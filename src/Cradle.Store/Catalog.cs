using Cradle.Protocol;
using Microsoft.Data.Sqlite;

namespace Cradle.Store;

/// <summary>
/// The store's index in SQLite: packs, where each chunk sits, and snapshots. One instance is
/// one connection; give each concurrent session its own. Microsoft.Data.Sqlite's async methods
/// run synchronously, so this class is synchronous and honest about it.
/// </summary>
public sealed partial class Catalog : IDisposable
{
    /// <summary>The catalog schema this build writes and reads.</summary>
    public const int SchemaVersion = 1;

    private readonly SqliteConnection _connection;
    private SqliteCommand? _hasChunk;
    private SqliteCommand? _findChunk;

    private Catalog(SqliteConnection connection) => _connection = connection;

    public SqliteConnection Connection => _connection;

    /// <summary>Opens (creating when new) the catalog database at <paramref name="path"/>.</summary>
    public static Catalog Open(string path)
    {
        var connection = OpenConnection(path);
        var catalog = new Catalog(connection);
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

    /// <summary>A connection with the settings every user of the host database needs.</summary>
    public static SqliteConnection OpenConnection(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        using var pragmas = connection.CreateCommand();
        // WAL lets restores and the CLI read while the host writes; synchronous=FULL makes a
        // committed transaction survive a power cut, which is what "committed" promises.
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    private void EnsureSchema()
    {
        using var tx = _connection.BeginTransaction();
        Execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)", tx);
        var version = Scalar("SELECT value FROM meta WHERE key = 'catalog_schema'", tx);
        if (version is null)
        {
            Execute("""
                CREATE TABLE packs(
                  id INTEGER PRIMARY KEY,
                  name TEXT NOT NULL UNIQUE,
                  size INTEGER NOT NULL,
                  created_ms INTEGER NOT NULL);
                CREATE TABLE chunks(
                  id BLOB PRIMARY KEY,
                  pack INTEGER NOT NULL REFERENCES packs(id),
                  offset INTEGER NOT NULL,
                  stored INTEGER NOT NULL,
                  raw INTEGER NOT NULL,
                  compression INTEGER NOT NULL) WITHOUT ROWID;
                CREATE INDEX chunks_pack ON chunks(pack);
                CREATE TABLE snapshots(
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  device_key TEXT NOT NULL,
                  device TEXT NOT NULL,
                  number INTEGER NOT NULL,
                  link TEXT NOT NULL,
                  started_ms INTEGER NOT NULL,
                  time_ms INTEGER NOT NULL,
                  files INTEGER NOT NULL,
                  bytes INTEGER NOT NULL,
                  tree BLOB NOT NULL,
                  suspect INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX snapshots_device ON snapshots(device_key, id);
                INSERT INTO meta(key, value) VALUES('catalog_schema', '1');
                """, tx);
        }
        else if (version != SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new StoreFormatException($"the catalog has schema version {version}; this build knows version {SchemaVersion} only (upgrade Cradle to open it)");
        }
        else if (Scalar("SELECT name FROM pragma_table_info('snapshots') WHERE name = 'suspect'", tx) is null)
        {
            // Catalogs made before snapshots were flagged lack the column (same schema otherwise).
            Execute("ALTER TABLE snapshots ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0", tx);
        }

        tx.Commit();
    }

    /// <summary>True when the catalog knows a durable copy of the chunk.</summary>
    public bool HasChunk(ChunkId id) => TryGetRawLength(id, out _);

    /// <summary>The chunk's uncompressed length when the catalog knows a durable copy of it.</summary>
    public bool TryGetRawLength(ChunkId id, out int rawLength)
    {
        _hasChunk ??= Prepare("SELECT raw FROM chunks WHERE id = $id");
        _hasChunk.Parameters["$id"].Value = id.ToArray();
        var value = _hasChunk.ExecuteScalar();
        rawLength = value is long raw ? (int)raw : 0;
        return value is not null;
    }

    /// <summary>Where a chunk is stored, or null when the catalog does not have it.</summary>
    public ChunkLocation? FindChunk(ChunkId id)
    {
        _findChunk ??= Prepare("SELECT p.name, c.offset, c.stored, c.raw, c.compression FROM chunks c JOIN packs p ON p.id = c.pack WHERE c.id = $id");
        _findChunk.Parameters["$id"].Value = id.ToArray();
        using var reader = _findChunk.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new ChunkLocation(reader.GetString(0), new PackEntry(id, reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3), (ChunkCompression)reader.GetInt32(4)));
    }

    /// <summary>
    /// Records a sealed pack and its chunks, and the snapshot that needs them when there is
    /// one, in one transaction: the snapshot exists whole or not at all.
    /// </summary>
    public long? Commit(SealedPack? pack, NewSnapshot? snapshot, long nowMs)
    {
        using var tx = _connection.BeginTransaction();
        if (pack is not null)
        {
            InsertPack(pack, nowMs, "INSERT OR IGNORE INTO chunks(id, pack, offset, stored, raw, compression) VALUES($id, $pack, $offset, $stored, $raw, $compression)", tx);
        }

        long? snapshotId = null;
        if (snapshot is not null)
        {
            // A backup in which most files vanished at once (a folder unmounted, say) is kept but
            // flagged, and prune never lets it push out the last complete snapshot.
            // Compared with the newest complete snapshot: a second shrunken backup in a row must
            // not become the "complete" one that lets prune drop the last full set.
            using var previous = Command("SELECT files FROM snapshots WHERE device_key = $key AND suspect = 0 ORDER BY id DESC LIMIT 1", tx);
            previous.Parameters.AddWithValue("$key", snapshot.Device.Key);
            var suspect = previous.ExecuteScalar() is long before && IsSuspect(before, snapshot.Files);
            using var insert = Command("""
                INSERT INTO snapshots(device_key, device, number, link, started_ms, time_ms, files, bytes, tree, suspect)
                VALUES($key, $device, $number, $link, $started, $time, $files, $bytes, $tree, $suspect) RETURNING id
                """, tx);
            insert.Parameters.AddWithValue("$suspect", suspect ? 1 : 0);
            insert.Parameters.AddWithValue("$key", snapshot.Device.Key);
            insert.Parameters.AddWithValue("$device", snapshot.Device.Value);
            insert.Parameters.AddWithValue("$number", (long)snapshot.Number);
            insert.Parameters.AddWithValue("$link", snapshot.Link);
            insert.Parameters.AddWithValue("$started", snapshot.StartedMs);
            insert.Parameters.AddWithValue("$time", nowMs);
            insert.Parameters.AddWithValue("$files", snapshot.Files);
            insert.Parameters.AddWithValue("$bytes", snapshot.Bytes);
            insert.Parameters.AddWithValue("$tree", ChunkIds.Concat(snapshot.Tree));
            snapshotId = (long)insert.ExecuteScalar()!;
        }

        tx.Commit();
        return snapshotId;
    }

    /// <summary>
    /// Inserts a sealed pack's row, then runs <paramref name="chunkSql"/> (with $id, $pack,
    /// $offset, $stored, $raw, $compression) for each of its entries: new chunk rows at commit,
    /// moved rows at repack.
    /// </summary>
    private long InsertPack(SealedPack pack, long nowMs, string chunkSql, SqliteTransaction tx)
    {
        using var insertPack = Command("INSERT INTO packs(name, size, created_ms) VALUES($name, $size, $now) RETURNING id", tx);
        insertPack.Parameters.AddWithValue("$name", pack.Name);
        insertPack.Parameters.AddWithValue("$size", pack.Size);
        insertPack.Parameters.AddWithValue("$now", nowMs);
        var packId = (long)insertPack.ExecuteScalar()!;
        using var chunk = Command(chunkSql, tx);
        var pId = chunk.Parameters.Add("$id", SqliteType.Blob);
        chunk.Parameters.AddWithValue("$pack", packId);
        var pOffset = chunk.Parameters.Add("$offset", SqliteType.Integer);
        var pStored = chunk.Parameters.Add("$stored", SqliteType.Integer);
        var pRaw = chunk.Parameters.Add("$raw", SqliteType.Integer);
        var pCompression = chunk.Parameters.Add("$compression", SqliteType.Integer);
        chunk.Prepare();
        foreach (var e in pack.Entries)
        {
            pId.Value = e.Id.ToArray();
            pOffset.Value = e.Offset;
            pStored.Value = e.StoredLength;
            pRaw.Value = e.RawLength;
            pCompression.Value = (int)e.Compression;
            chunk.ExecuteNonQuery();
        }

        return packId;
    }

    /// <summary>Most of the files vanished since the previous snapshot: at least 10 before, fewer than half now.</summary>
    public static bool IsSuspect(long filesBefore, long filesNow) => filesBefore >= 10 && filesNow * 2 < filesBefore;

    private SqliteCommand Prepare(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.Add("$id", SqliteType.Blob);
        command.Prepare();
        return command;
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    private void Execute(string sql, SqliteTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql, SqliteTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        return command.ExecuteScalar() as string;
    }

    public void Dispose()
    {
        _hasChunk?.Dispose();
        _findChunk?.Dispose();
        _connection.Dispose();
    }
}

/// <summary>A chunk's place: the pack file (relative to the packs folder) and its record.</summary>
public sealed record ChunkLocation(string PackName, PackEntry Entry);

/// <summary>A pack that has been sealed and flushed to disk, ready to be named by the catalog.</summary>
public sealed record SealedPack(string Name, long Size, IReadOnlyList<PackEntry> Entries);

/// <summary>A snapshot about to be committed.</summary>
public sealed record NewSnapshot(DeviceName Device, uint Number, string Link, long StartedMs, long Files, long Bytes, IReadOnlyList<ChunkId> Tree);

/// <summary>Helpers for lists of chunk ids stored as one blob.</summary>
public static class ChunkIds
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
