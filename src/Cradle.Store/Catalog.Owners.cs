using System.Data;
using System.Data.Common;
using System.Globalization;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Which device may name which chunk. The store keeps each chunk once whoever sent it, but a
/// device may reference in a snapshot only the chunks it has sent itself or that stand in its
/// own earlier snapshots, and a chunk query is answered from those alone: knowing a chunk's hash
/// is not enough to read it, and the answer says nothing about other devices' data
/// (protocol.md §6). One row per (device, chunk) it owns, keyed by the device name's key: a
/// lookup for a query is one index range per device, the same round trip as before; the rows of
/// a forgotten name go with it, so a new partnership under the name starts owning nothing.
/// </summary>
internal sealed partial class Catalog
{
    /// <summary>Schema 4: the <c>chunk_owners</c> table, filled for existing snapshots when a catalog of schema 3 or older is opened by a store (<see cref="OwnershipBackfill"/>).</summary>
    public const int OwnersSchemaVersion = 4;

    /// <summary>Most ids one ownership statement carries (the query's own cap).</summary>
    private const int OwnersBatch = 4096;

    /// <summary>
    /// The numbers 0 … @count − 1, one row each, to cut a packed list of ids (@ids) into rows.
    /// MATERIALIZED: computed once per statement. Left to itself, SQLite 3.53 (the bundled one)
    /// made it a co-routine and ran it again for every row of the other side of the join: an
    /// owned-chunk lookup of 256 ids against a device owning 20,000 chunks took 0.85 s instead of
    /// 0.8 ms, and a 50,000-file backup's queries minutes (docs/BENCHMARKS.md, issue 23 phase 2).
    /// </summary>
    internal const string RangeOfIds = "WITH RECURSIVE n(i) AS MATERIALIZED (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @count) ";

    /// <summary>
    /// The owned lookup. <c>n CROSS JOIN chunk_owners</c>: SQLite keeps that order (the ids drive,
    /// each a primary-key search of device and chunk); given the choice it scanned every chunk
    /// the device owns and, for each, every id. PostgreSQL plans a cross join like any other.
    /// </summary>
    internal static readonly string OwnedLookUpSql = RangeOfIds +
        $"SELECT c.id, c.raw FROM n CROSS JOIN chunk_owners o JOIN chunks c ON c.id = o.chunk " +
        $"WHERE o.device_key = @owner AND o.chunk = substr(@ids, (n.i * {ChunkId.Length}) + 1, {ChunkId.Length}) AND c.condemned IS NULL";

    private DbCommand? _ownedLookUp;
    private DbCommand? _ownedOne;
    private DbCommand? _recordOwners;

    private static string OwnersTable(CatalogDatabase db) =>
        $"CREATE TABLE IF NOT EXISTS chunk_owners(device_key TEXT NOT NULL, chunk {db.Blob} NOT NULL, PRIMARY KEY(device_key, chunk)){db.KeyedTable}";

    /// <summary>
    /// Schema 4. The table starts empty; the snapshots that exist now are marked for the backfill
    /// (every chunk they name becomes their device's), which needs the packs and so runs when a
    /// store opens (<see cref="OwnershipBackfill"/>), before a host serves anyone.
    /// </summary>
    private void MigrateToOwners(DbTransaction tx)
    {
        Execute(OwnersTable(_database), tx);
        Execute("INSERT INTO meta(key, value) SELECT 'owners_backfill_below', CAST(COALESCE(MAX(id), 0) + 1 AS TEXT) FROM snapshots", tx);
        Execute("INSERT INTO meta(key, value) VALUES('owners_backfill_from', '0')", tx);
    }

    /// <summary>
    /// The raw lengths of those of <paramref name="ids"/> the catalog knows a durable copy of AND
    /// that <paramref name="ownerKey"/> owns, in one statement (as <see cref="GetRawLengths"/>).
    /// </summary>
    public Dictionary<ChunkId, int> GetOwnedRawLengths(string ownerKey, IReadOnlyList<ChunkId> ids)
    {
        var found = new Dictionary<ChunkId, int>(ids.Count);
        if (ids.Count == 0)
        {
            return found;
        }

        if (_ownedLookUp is null)
        {
            _ownedLookUp = Command(OwnedLookUpSql);
            _ownedLookUp.AddParameter("@count", DbType.Int32);
            _ownedLookUp.AddParameter("@ids", DbType.Binary);
            _ownedLookUp.AddParameter("@owner", DbType.String);
            _ownedLookUp.Prepare();
        }

        _ownedLookUp.Parameters[0].Value = ids.Count;
        _ownedLookUp.Parameters[1].Value = Pack(ids, 0, ids.Count);
        _ownedLookUp.Parameters[2].Value = ownerKey;
        using var reader = _ownedLookUp.ExecuteReader();
        while (reader.Read())
        {
            found[ChunkId.Read((byte[])reader.GetValue(0))] = (int)reader.GetInt64(1);
        }

        return found;
    }

    /// <summary>The chunk's raw length when the catalog has a durable copy and <paramref name="ownerKey"/> owns it.</summary>
    public bool TryGetOwnedRawLength(string ownerKey, ChunkId id, out int rawLength)
    {
        if (_ownedOne is null)
        {
            _ownedOne = Command("SELECT c.raw FROM chunk_owners o JOIN chunks c ON c.id = o.chunk WHERE o.device_key = @owner AND o.chunk = @id AND c.condemned IS NULL");
            _ownedOne.AddParameter("@owner", DbType.String);
            _ownedOne.AddParameter("@id", DbType.Binary);
            _ownedOne.Prepare();
        }

        _ownedOne.Parameters[0].Value = ownerKey;
        _ownedOne.Parameters[1].Value = id.ToArray();
        var value = _ownedOne.ExecuteScalar();
        rawLength = value is long raw ? (int)raw : 0;
        return value is not null;
    }

    /// <summary>
    /// Records that <paramref name="ownerKey"/> owns <paramref name="ids"/> (rows it already has
    /// are left alone), a few thousand per statement, inside <paramref name="tx"/> when given.
    /// </summary>
    public void RecordOwners(string ownerKey, IReadOnlyList<ChunkId> ids, DbTransaction? tx = null)
    {
        if (ids.Count == 0)
        {
            return;
        }

        if (tx is not null)
        {
            RecordOwnersIn(ownerKey, ids, tx);
            return;
        }

        using var own = _connection.BeginTransaction();
        RecordOwnersIn(ownerKey, ids, own);
        own.Commit();
    }

    private void RecordOwnersIn(string ownerKey, IReadOnlyList<ChunkId> ids, DbTransaction tx)
    {
        if (_recordOwners is null)
        {
            // SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT (its upsert parsing rule).
            _recordOwners = Command(RangeOfIds +
                $"INSERT INTO chunk_owners(device_key, chunk) SELECT @owner, substr(@ids, (n.i * {ChunkId.Length}) + 1, {ChunkId.Length}) FROM n WHERE 1 = 1 ON CONFLICT DO NOTHING");
            _recordOwners.AddParameter("@count", DbType.Int32);
            _recordOwners.AddParameter("@ids", DbType.Binary);
            _recordOwners.AddParameter("@owner", DbType.String);
        }

        _recordOwners.Transaction = tx;
        // In id order: two writers recording overlapping rows wait for each other in one order (as InsertPack).
        var sorted = ids.Order().ToArray();
        for (var start = 0; start < sorted.Length; start += OwnersBatch)
        {
            var count = Math.Min(OwnersBatch, sorted.Length - start);
            _recordOwners.Parameters[0].Value = count;
            _recordOwners.Parameters[1].Value = Pack(sorted, start, count);
            _recordOwners.Parameters[2].Value = ownerKey;
            _recordOwners.ExecuteNonQuery();
        }
    }

    /// <summary>Removes every ownership row of a device name (the operator's <c>forget</c>): a new partnership under the name owns nothing of the old one's.</summary>
    public int DeleteOwnersOf(string deviceKey)
    {
        using var command = Command("DELETE FROM chunk_owners WHERE device_key = @key");
        command.AddParameter("@key", deviceKey);
        return command.ExecuteNonQuery();
    }

    /// <summary>Removes ownership rows whose chunk the store no longer has (after prune's sweep); returns how many.</summary>
    public int DeleteOwnersOfMissingChunks()
    {
        using var command = Command("DELETE FROM chunk_owners WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = chunk_owners.chunk)");
        return command.ExecuteNonQuery();
    }

    /// <summary>How many chunks <paramref name="ownerKey"/> owns (reports and tests).</summary>
    public long CountOwned(string ownerKey)
    {
        using var command = Command("SELECT COUNT(*) FROM chunk_owners WHERE device_key = @key");
        command.AddParameter("@key", ownerKey);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The snapshot ids [from, below) whose chunks still need owners from the migration to schema 4; null when none do.</summary>
    internal (long From, long Below)? OwnersBackfillRange()
    {
        var below = Scalar("SELECT value FROM meta WHERE key = 'owners_backfill_below'");
        if (below is null)
        {
            return null;
        }

        var from = Scalar("SELECT value FROM meta WHERE key = 'owners_backfill_from'") ?? "0";
        return (long.Parse(from, CultureInfo.InvariantCulture), long.Parse(below, CultureInfo.InvariantCulture));
    }

    /// <summary>Records the owners of one migrated snapshot and moves the backfill past it, in one transaction.</summary>
    internal void BackfillOwners(string ownerKey, IReadOnlyList<ChunkId> ids, long nextFrom)
    {
        using var tx = _connection.BeginTransaction();
        RecordOwnersIn(ownerKey, ids, tx);
        Execute($"UPDATE meta SET value = '{nextFrom.ToString(CultureInfo.InvariantCulture)}' WHERE key = 'owners_backfill_from'", tx);
        tx.Commit();
    }

    /// <summary>Ends the backfill: every migrated snapshot's chunks have their owner.</summary>
    internal void EndOwnersBackfill()
    {
        using var tx = _connection.BeginTransaction();
        Execute("DELETE FROM meta WHERE key IN ('owners_backfill_below', 'owners_backfill_from')", tx);
        tx.Commit();
    }

    private static byte[] Pack(IReadOnlyList<ChunkId> ids, int start, int count)
    {
        var packed = new byte[count * ChunkId.Length];
        for (var i = 0; i < count; i++)
        {
            ids[start + i].WriteTo(packed.AsSpan(i * ChunkId.Length, ChunkId.Length));
        }

        return packed;
    }
}
