using System.Globalization;

namespace Cradle.Store;

/// <summary>
/// Which snapshots of one device prune keeps: the last N, and the newest snapshot of each of the
/// last N days, ISO weeks and months that have one (calendar periods in UTC). A snapshot kept by
/// any rule stays. Besides the rules, the newest complete snapshot (not partial, empty or suspect)
/// always stays, so a backup taken while files were unreadable or missing cannot push out the
/// last one that read everything.
/// </summary>
internal sealed record RetentionPolicy(int KeepLast = 0, int KeepDaily = 0, int KeepWeekly = 0, int KeepMonthly = 0)
{
    public bool IsEmpty => KeepLast == 0 && KeepDaily == 0 && KeepWeekly == 0 && KeepMonthly == 0;

    /// <summary>Returns each kept snapshot's id with the reasons, for one device's snapshots.</summary>
    public Dictionary<long, List<string>> Keep(IReadOnlyList<SnapshotInfo> snapshots)
    {
        if (KeepLast < 0 || KeepDaily < 0 || KeepWeekly < 0 || KeepMonthly < 0)
        {
            throw new ArgumentException("retention counts are 0 or more");
        }

        var newestFirst = snapshots.OrderByDescending(s => s.Time).ThenByDescending(s => s.Id).ToList();
        var keep = new Dictionary<long, List<string>>();
        void Mark(SnapshotInfo s, string reason)
        {
            if (!keep.TryGetValue(s.Id, out var reasons))
            {
                keep[s.Id] = reasons = [];
            }

            reasons.Add(reason);
        }

        foreach (var s in newestFirst.Take(KeepLast))
        {
            Mark(s, "last");
        }

        Periods(newestFirst, KeepDaily, t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "daily", Mark);
        Periods(newestFirst, KeepWeekly, t => $"{ISOWeek.GetYear(t.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(t.UtcDateTime):00}", "weekly", Mark);
        Periods(newestFirst, KeepMonthly, t => t.ToString("yyyy-MM", CultureInfo.InvariantCulture), "monthly", Mark);

        var lastComplete = newestFirst.FirstOrDefault(s => !s.Flagged);
        if (lastComplete is not null)
        {
            Mark(lastComplete, "last complete");
        }

        return keep;
    }

    private static void Periods(List<SnapshotInfo> newestFirst, int count, Func<DateTimeOffset, string> period, string reason, Action<SnapshotInfo, string> mark)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in newestFirst)
        {
            if (seen.Count >= count)
            {
                return;
            }

            if (seen.Add(period(s.Time.ToUniversalTime())))
            {
                mark(s, reason);
            }
        }
    }
}
