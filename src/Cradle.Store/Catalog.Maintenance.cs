using System.Data;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

internal sealed partial class Catalog
{
    /// <summary>Every pack the catalog names.</summary>
    internal List<PackRow> ListPacks()
    {
        using var command = Command("SELECT id, name, size FROM packs ORDER BY id");
        var list = new List<PackRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new PackRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return list;
    }

    /// <summary>Every chunk row, streamed in pack and offset order (one pass over each pack file).</summary>
    internal IEnumerable<ChunkRow> ListChunks()
    {
        using var command = Command("SELECT id, pack, \"offset\", stored, raw, compression FROM chunks ORDER BY pack, \"offset\"");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var id = ChunkId.Read((byte[])reader.GetValue(0));
            yield return new ChunkRow(reader.GetInt64(1), new PackEntry(id, reader.GetInt64(2), (int)reader.GetInt64(3), (int)reader.GetInt64(4), (ChunkCompression)reader.GetInt64(5)));
        }
    }

    /// <summary>Chunk rows whose pack row does not exist (only possible when the database was damaged).</summary>
    public List<ChunkId> ChunksWithoutPack()
    {
        using var command = Command("SELECT c.id FROM chunks c LEFT JOIN packs p ON p.id = c.pack WHERE p.id IS NULL");
        var list = new List<ChunkId>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(ChunkId.Read((byte[])reader.GetValue(0)));
        }

        return list;
    }

    /// <summary>Records the outcome of a check (the dashboard's "last check").</summary>
    public void RecordCheck(LastCheck check)
    {
        var value = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{check.Time.ToUnixTimeMilliseconds()};{(check.Ok ? 1 : 0)};{check.Problems};{(check.ReadData ? 1 : 0)}");
        using var command = Command("INSERT INTO meta(key, value) VALUES('last_check', @v) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
        command.AddParameter("@v", value);
        command.ExecuteNonQuery();
    }

    /// <summary>The last check's outcome; null when the store was never checked.</summary>
    public LastCheck? LastCheck()
    {
        var value = Scalar("SELECT value FROM meta WHERE key = 'last_check'");
        if (value is null)
        {
            return null;
        }

        var parts = value.Split(';');
        if (parts.Length != 4 || !long.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var ms) || !int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var problems))
        {
            throw new StoreFormatException($"the catalog's record of the last check is damaged: '{value}'");
        }

        return new LastCheck(DateTimeOffset.FromUnixTimeMilliseconds(ms), parts[1] == "1", problems, parts[3] == "1");
    }

    /// <summary>Removes snapshots in one transaction.</summary>
    public void DeleteSnapshots(IReadOnlyCollection<long> ids)
    {
        using var tx = _connection.BeginTransaction();
        using var problems = Command("DELETE FROM snapshot_problems WHERE snapshot = @id", tx);
        var problemsOf = problems.AddParameter("@id", DbType.Int64);
        using var command = Command("DELETE FROM snapshots WHERE id = @id", tx);
        var id = command.AddParameter("@id", DbType.Int64);
        foreach (var value in ids)
        {
            problemsOf.Value = value;
            problems.ExecuteNonQuery();
            id.Value = value;
            command.ExecuteNonQuery();
        }

        tx.Commit();
    }

    /// <summary>
    /// Repack's step in one transaction: the new pack (already sealed and durable) takes over the
    /// live chunks it holds, and the old packs are retired in a new epoch. Their files stay until
    /// prune's sweep, once no session that could have looked up the old places still runs.
    /// </summary>
    internal void Repack(SealedPack replacement, IReadOnlyCollection<long> oldPacks, long nowMs)
    {
        using var tx = _connection.BeginTransaction();
        InsertPack(replacement, nowMs, "UPDATE chunks SET pack = @pack, \"offset\" = @offset, stored = @stored, raw = @raw, compression = @compression WHERE id = @id", tx);
        var epoch = AdvanceEpoch(tx);
        using var retire = Command("UPDATE packs SET retired = @epoch WHERE id = @pack", tx);
        retire.AddParameter("@epoch", epoch);
        var pack = retire.AddParameter("@pack", DbType.Int64);
        foreach (var old in oldPacks)
        {
            pack.Value = old;
            retire.ExecuteNonQuery();
        }

        tx.Commit();
    }
}

/// <summary>A pack as the catalog names it.</summary>
internal sealed record PackRow(long Id, string Name, long Size);

/// <summary>A chunk row: which pack (by row id) and where in it.</summary>
internal readonly record struct ChunkRow(long Pack, PackEntry Entry);

/// <summary>When the store was last checked and what was found (kept by <see cref="StoreChecker"/>).</summary>
internal sealed record LastCheck(DateTimeOffset Time, bool Ok, int Problems, bool ReadData);
