using System.Data;
using System.Data.Common;

namespace Cradle.Store;

internal sealed partial class Catalog
{
    /// <summary>Most problems one snapshot records (a device with a million unreadable files says so in its count).</summary>
    public const int MaxProblemsRecorded = 10_000;

    /// <summary>Most characters of a problem's reason that are kept.</summary>
    public const int MaxReasonLength = 1000;

    private void InsertProblems(long snapshot, IReadOnlyList<SnapshotProblem> problems, DbTransaction tx)
    {
        if (problems.Count == 0)
        {
            return;
        }

        using var insert = Command("""
            INSERT INTO snapshot_problems(snapshot, seq, path, reason, folder, carried, from_snapshot)
            VALUES(@snapshot, @seq, @path, @reason, @folder, @carried, @from)
            """, tx);
        insert.AddParameter("@snapshot", snapshot);
        var seq = insert.AddParameter("@seq", DbType.Int64);
        var path = insert.AddParameter("@path", DbType.String);
        var reason = insert.AddParameter("@reason", DbType.String);
        var folder = insert.AddParameter("@folder", DbType.Int64);
        var carried = insert.AddParameter("@carried", DbType.Int64);
        var from = insert.AddParameter("@from", DbType.Int64);
        insert.Prepare();
        for (var i = 0; i < Math.Min(problems.Count, MaxProblemsRecorded); i++)
        {
            var p = problems[i];
            seq.Value = (long)i;
            path.Value = p.Path;
            reason.Value = p.Reason.Length > MaxReasonLength ? p.Reason[..MaxReasonLength] : p.Reason;
            folder.Value = p.Folder ? 1L : 0L;
            carried.Value = p.CarriedForward;
            from.Value = p.FromSnapshot.HasValue ? p.FromSnapshot.Value : DBNull.Value;
            insert.ExecuteNonQuery();
        }
    }

    /// <summary>What a snapshot's backup could not read, in the order the device met it; at most <paramref name="limit"/>.</summary>
    public List<SnapshotProblem> ListProblems(long snapshot, int limit = MaxProblemsRecorded)
    {
        using var command = Command("SELECT path, reason, folder, carried, from_snapshot FROM snapshot_problems WHERE snapshot = @snapshot ORDER BY seq LIMIT @limit");
        command.AddParameter("@snapshot", snapshot);
        command.AddParameter("@limit", (long)limit);
        var list = new List<SnapshotProblem>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new SnapshotProblem(reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0, reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4)));
        }

        return list;
    }

    /// <summary>
    /// Records that a backup found exactly this snapshot's files again (nothing changed): its
    /// <c>verified</c> time. False when the snapshot is gone (prune removed it meanwhile).
    /// </summary>
    public bool MarkVerified(long snapshot, long nowMs)
    {
        using var command = Command("UPDATE snapshots SET verified_ms = @now WHERE id = @id");
        command.AddParameter("@now", nowMs);
        command.AddParameter("@id", snapshot);
        return command.ExecuteNonQuery() == 1;
    }

    private void DeleteProblems(string where, Action<DbCommand> bind, DbTransaction? tx)
    {
        using var command = Command($"DELETE FROM snapshot_problems WHERE snapshot IN (SELECT id FROM snapshots WHERE {where})", tx);
        bind(command);
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// Something a backup could not read: a file or a folder (<c>Folder</c>: it could not be listed,
/// or a data folder was missing), why, and how many entries of an earlier snapshot
/// (<c>FromSnapshot</c>) stand in for it (<c>CarriedForward</c>; 0: there was no earlier version).
/// <c>Path</c> is empty for something without a storable name (the reason says what).
/// </summary>
internal sealed record SnapshotProblem(string Path, string Reason, bool Folder, long CarriedForward, long? FromSnapshot);
