using System.Data.Common;
using System.Data;
using System.Globalization;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Leases and the epoch: how prune deletes beside backups, restores and checks that run on this
/// host or on other hosts sharing the catalog (scale.md, "Maintenance beside live backups").
/// Every session that reads or writes chunks holds a lease stamped with the epoch it began in.
/// Prune marks what it would delete with the current epoch and advances the epoch in the same
/// transaction; it deletes a mark only once no live lease is stamped at or before it, so no
/// session that could have seen the marked data as present is still running.
/// </summary>
internal sealed partial class Catalog
{
    private static string[] LeaseTables(CatalogDatabase db) => [
        $"CREATE TABLE leases(id {db.AutoKey}, holder TEXT NOT NULL, kind TEXT NOT NULL, epoch {db.BigInt} NOT NULL, renewed_ms {db.BigInt} NOT NULL)",
        $"CREATE TABLE maintenance(name TEXT PRIMARY KEY, holder TEXT NOT NULL, renewed_ms {db.BigInt} NOT NULL)",
        "INSERT INTO meta(key, value) VALUES('epoch', '1')",
    ];

    /// <summary>Starts a lease in the current epoch; returns its id and epoch.</summary>
    public (long Id, long Epoch) TakeLease(string holder, string kind, long nowMs)
    {
        using var tx = _connection.BeginTransaction();
        using var insert = Command("INSERT INTO leases(holder, kind, epoch, renewed_ms) SELECT @holder, @kind, CAST(value AS BIGINT), @now FROM meta WHERE key = 'epoch' RETURNING id, epoch", tx);
        insert.AddParameter("@holder", holder);
        insert.AddParameter("@kind", kind);
        insert.AddParameter("@now", nowMs);
        using var reader = insert.ExecuteReader();
        if (!reader.Read())
        {
            throw new StoreFormatException("the catalog has no epoch (meta.epoch): it is damaged");
        }

        var lease = (reader.GetInt64(0), reader.GetInt64(1));
        reader.Close();
        tx.Commit();
        return lease;
    }

    /// <summary>Marks the lease alive now; false when it is gone (expired and removed by a prune).</summary>
    public bool RenewLease(long id, long nowMs)
    {
        using var command = Command("UPDATE leases SET renewed_ms = @now WHERE id = @id");
        command.AddParameter("@now", nowMs);
        command.AddParameter("@id", id);
        return command.ExecuteNonQuery() == 1;
    }

    public void ReleaseLease(long id)
    {
        using var command = Command("DELETE FROM leases WHERE id = @id");
        command.AddParameter("@id", id);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The oldest epoch a live lease holds (renewed within <paramref name="timeout"/>), or null when
    /// none is live. Leases not renewed in time (their process died) are removed on the way.
    /// </summary>
    public long? OldestLiveLease(long nowMs, TimeSpan timeout)
    {
        using (var expire = Command("DELETE FROM leases WHERE renewed_ms < @cutoff"))
        {
            expire.AddParameter("@cutoff", nowMs - (long)timeout.TotalMilliseconds);
            expire.ExecuteNonQuery();
        }

        using var command = Command("SELECT MIN(epoch) FROM leases");
        return command.ExecuteScalar() is long epoch ? epoch : null;
    }

    /// <summary>Sessions holding a live lease now (for prune's report).</summary>
    public int LiveLeases()
    {
        using var command = Command("SELECT COUNT(*) FROM leases");
        return (int)(long)command.ExecuteScalar()!;
    }

    /// <summary>The current epoch.</summary>
    public long Epoch()
    {
        var value = Scalar("SELECT value FROM meta WHERE key = 'epoch'");
        return long.TryParse(value, CultureInfo.InvariantCulture, out var epoch) ? epoch : throw new StoreFormatException($"the catalog's epoch is damaged: '{value}'");
    }

    /// <summary>
    /// Takes the named maintenance lock (one prune at a time across every host sharing the
    /// catalog) unless another holder renewed it within <paramref name="timeout"/>; true when taken.
    /// </summary>
    public bool TryTakeMaintenance(string name, string holder, long nowMs, TimeSpan timeout)
    {
        using var command = Command("""
            INSERT INTO maintenance(name, holder, renewed_ms) VALUES(@name, @holder, @now)
            ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, renewed_ms = excluded.renewed_ms
            WHERE maintenance.renewed_ms < @cutoff OR maintenance.holder = excluded.holder
            """);
        command.AddParameter("@name", name);
        command.AddParameter("@holder", holder);
        command.AddParameter("@now", nowMs);
        command.AddParameter("@cutoff", nowMs - (long)timeout.TotalMilliseconds);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Takes the lock from <paramref name="dead"/> if that is still its holder; true when taken.</summary>
    public bool TakeOverMaintenance(string name, string dead, string holder, long nowMs)
    {
        using var command = Command("UPDATE maintenance SET holder = @holder, renewed_ms = @now WHERE name = @name AND holder = @dead");
        command.AddParameter("@holder", holder);
        command.AddParameter("@now", nowMs);
        command.AddParameter("@name", name);
        command.AddParameter("@dead", dead);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Removes the leases whose holder <paramref name="isDead"/> says is gone; returns how many.</summary>
    public int ReleaseLeasesOf(Func<string, bool> isDead)
    {
        var holders = new List<string>();
        using (var select = Command("SELECT DISTINCT holder FROM leases"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                holders.Add(reader.GetString(0));
            }
        }

        var released = 0;
        foreach (var holder in holders.Where(isDead))
        {
            using var delete = Command("DELETE FROM leases WHERE holder = @holder");
            delete.AddParameter("@holder", holder);
            released += delete.ExecuteNonQuery();
        }

        return released;
    }

    public string? MaintenanceHolder(string name)
    {
        using var command = Command("SELECT holder FROM maintenance WHERE name = @name");
        command.AddParameter("@name", name);
        return command.ExecuteScalar() as string;
    }

    public void ReleaseMaintenance(string name, string holder)
    {
        using var command = Command("DELETE FROM maintenance WHERE name = @name AND holder = @holder");
        command.AddParameter("@name", name);
        command.AddParameter("@holder", holder);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Prune's mark: condemns the chunks no snapshot needs (those not condemned already) and
    /// advances the epoch, in one transaction. Returns the epoch of the mark.
    /// </summary>
    public long Condemn(IReadOnlyCollection<ChunkId> dead)
    {
        using var tx = _connection.BeginTransaction();
        var epoch = AdvanceEpoch(tx);
        using var command = Command("UPDATE chunks SET condemned = @epoch WHERE id = @id AND condemned IS NULL", tx);
        command.AddParameter("@epoch", epoch);
        var id = command.AddParameter("@id", DbType.Binary);
        foreach (var chunk in dead.Order())
        {
            id.Value = chunk.ToArray();
            command.ExecuteNonQuery();
        }

        tx.Commit();
        return epoch;
    }

    /// <summary>Chunks prune condemned and has not deleted yet, with the epoch of their mark.</summary>
    public Dictionary<ChunkId, long> ListCondemned()
    {
        using var command = Command("SELECT id, condemned FROM chunks WHERE condemned IS NOT NULL");
        var list = new Dictionary<ChunkId, long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list[ChunkId.Read((byte[])reader.GetValue(0))] = reader.GetInt64(1);
        }

        return list;
    }

    /// <summary>
    /// Prune's sweep in one transaction: the condemned chunks a snapshot names again are taken
    /// back (<paramref name="rescued"/>); those marked before <paramref name="safeBefore"/> are
    /// deleted (<paramref name="deleted"/>); then the pack rows left with no chunk row and not
    /// retired at or after <paramref name="safeBefore"/> go. Returns those packs: the caller
    /// deletes their files after the commit.
    /// </summary>
    internal List<PackRow> Sweep(IReadOnlyCollection<ChunkId> rescued, IReadOnlyCollection<ChunkId> deleted, long safeBefore)
    {
        using var tx = _connection.BeginTransaction();
        using (var rescue = Command("UPDATE chunks SET condemned = NULL WHERE id = @id", tx))
        {
            var id = rescue.AddParameter("@id", DbType.Binary);
            foreach (var chunk in rescued.Order())
            {
                id.Value = chunk.ToArray();
                rescue.ExecuteNonQuery();
            }
        }

        using (var delete = Command("DELETE FROM chunks WHERE id = @id AND condemned IS NOT NULL AND condemned < @safe", tx))
        {
            var id = delete.AddParameter("@id", DbType.Binary);
            delete.AddParameter("@safe", safeBefore);
            foreach (var chunk in deleted.Order())
            {
                id.Value = chunk.ToArray();
                delete.ExecuteNonQuery();
            }
        }

        var empty = new List<PackRow>();
        using (var select = Command("SELECT p.id, p.name, p.size FROM packs p WHERE (p.retired IS NULL OR p.retired < @safe) AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.pack = p.id) ORDER BY p.id", tx))
        {
            select.AddParameter("@safe", safeBefore);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                empty.Add(new PackRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        using (var deletePack = Command("DELETE FROM packs WHERE id = @id", tx))
        {
            var id = deletePack.AddParameter("@id", DbType.Int64);
            foreach (var pack in empty)
            {
                id.Value = pack.Id;
                deletePack.ExecuteNonQuery();
            }
        }

        tx.Commit();
        return empty;
    }

    /// <summary>Raises the epoch by one inside <paramref name="tx"/>; returns the epoch before (the one a mark carries).</summary>
    private long AdvanceEpoch(DbTransaction tx)
    {
        // The UPDATE first: on PostgreSQL it takes the row lock, so two marks never share an epoch.
        using var update = Command("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'epoch' RETURNING value", tx);
        var next = update.ExecuteScalar() as string;
        return long.TryParse(next, CultureInfo.InvariantCulture, out var epoch) ? epoch - 1 : throw new StoreFormatException($"the catalog's epoch is damaged: '{next}'");
    }
}
