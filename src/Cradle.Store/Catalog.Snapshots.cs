using System.Data.Common;
using Cradle.Content;

namespace Cradle.Store;

internal sealed partial class Catalog
{
    /// <summary>Snapshots, oldest first; of one device when <paramref name="deviceKey"/> is given.</summary>
    public List<SnapshotInfo> ListSnapshots(string? deviceKey = null)
    {
        using var command = Command(deviceKey is null
            ? "SELECT id, device, number, link, started_ms, time_ms, files, bytes, tree, suspect, problems, previous_files, verified_ms FROM snapshots ORDER BY id"
            : "SELECT id, device, number, link, started_ms, time_ms, files, bytes, tree, suspect, problems, previous_files, verified_ms FROM snapshots WHERE device_key = @key ORDER BY id");
        if (deviceKey is not null)
        {
            command.AddParameter("@key", deviceKey);
        }

        return ReadSnapshots(command);
    }

    public SnapshotInfo? GetSnapshot(long id)
    {
        using var command = Command("SELECT id, device, number, link, started_ms, time_ms, files, bytes, tree, suspect, problems, previous_files, verified_ms FROM snapshots WHERE id = @id");
        command.AddParameter("@id", id);
        return ReadSnapshots(command).FirstOrDefault();
    }

    /// <summary>Removes every snapshot of a device (the operator's <c>forget</c>); returns how many.</summary>
    public int DeleteSnapshotsOf(string deviceKey)
    {
        using var tx = _connection.BeginTransaction();
        DeleteProblems("device_key = @key", c => c.AddParameter("@key", deviceKey), tx);
        using var command = Command("DELETE FROM snapshots WHERE device_key = @key", tx);
        command.AddParameter("@key", deviceKey);
        var removed = command.ExecuteNonQuery();
        tx.Commit();
        return removed;
    }

    /// <summary>
    /// Totals for reports: packs and their bytes on disk (retired ones until prune deletes them),
    /// and the chunks snapshots can use with their stored and raw bytes — condemned chunks, which
    /// prune has found no snapshot needs and only waits to delete, are not counted. A compression
    /// group's bytes count once, with its members that are not condemned.
    /// </summary>
    public StoreTotals Totals()
    {
        using var command = Command($"""
            SELECT (SELECT COUNT(*) FROM packs), (SELECT CAST(COALESCE(SUM(size),0) AS BIGINT) FROM packs), COUNT(*),
              CAST(COALESCE(SUM(CASE WHEN compression = {(int)ChunkCompression.ZstdGroup} THEN 0 ELSE stored END),0) AS BIGINT)
                + (SELECT CAST(COALESCE(SUM(g.stored),0) AS BIGINT) FROM (SELECT DISTINCT pack, "offset", stored FROM chunks
                   WHERE compression = {(int)ChunkCompression.ZstdGroup} AND condemned IS NULL) g),
              CAST(COALESCE(SUM(raw),0) AS BIGINT)
            FROM chunks WHERE condemned IS NULL
            """);
        using var reader = command.ExecuteReader();
        reader.Read();
        return new StoreTotals(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    /// <summary>Bytes the catalog's database takes on disk.</summary>
    public long DatabaseBytes() => _database.SizeBytes(_connection);

    private static List<SnapshotInfo> ReadSnapshots(DbCommand command)
    {
        var list = new List<SnapshotInfo>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new SnapshotInfo(
                reader.GetInt64(0),
                reader.GetString(1),
                (uint)reader.GetInt64(2),
                reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                reader.GetInt64(6),
                reader.GetInt64(7),
                ChunkIds.Split((byte[])reader.GetValue(8)),
                reader.GetInt64(9) != 0,
                reader.GetInt64(10),
                reader.IsDBNull(11) ? null : reader.GetInt64(11),
                reader.IsDBNull(12) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12))));
        }

        return list;
    }
}

/// <summary>
/// A committed snapshot. <c>Suspect</c>: most of the device's files vanished since the complete
/// snapshot before it (which had <c>PreviousFiles</c>). <c>Problems</c>: how many things its
/// backup could not read (a partial snapshot; <see cref="Catalog.ListProblems"/> says what).
/// <c>Verified</c>: the last time a backup found exactly these files again (nothing changed).
/// </summary>
internal sealed record SnapshotInfo(long Id, string Device, uint Number, string Link, DateTimeOffset Started, DateTimeOffset Time, long Files, long Bytes, Protocol.ChunkId[] Tree,
    bool Suspect = false, long Problems = 0, long? PreviousFiles = null, DateTimeOffset? Verified = null)
{
    /// <summary>Something could not be read: earlier versions stand in for it.</summary>
    public bool Partial => Problems > 0;

    /// <summary>No file at all.</summary>
    public bool Empty => Files == 0;

    /// <summary>Not a full picture of the device: partial, empty or suspect. Prune always keeps the newest snapshot that is none of these.</summary>
    public bool Flagged => Partial || Empty || Suspect;
}

/// <summary>Sizes of the whole store.</summary>
internal sealed record StoreTotals(long Packs, long PackBytes, long Chunks, long StoredBytes, long RawBytes);
