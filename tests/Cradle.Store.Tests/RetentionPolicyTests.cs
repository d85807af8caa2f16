using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>Which snapshots a policy keeps, on snapshots at chosen times (all in UTC).</summary>
public sealed class RetentionPolicyTests
{
    private static long _nextId;

    private static SnapshotInfo At(string utc, bool suspect = false, long files = 100)
    {
        var time = DateTimeOffset.Parse(utc + "Z", System.Globalization.CultureInfo.InvariantCulture);
        return new SnapshotInfo(Interlocked.Increment(ref _nextId), "ALPHA-1", 1, "network", time.AddMinutes(-5), time, files, files * 1000, [], suspect);
    }

    private static long[] Kept(RetentionPolicy policy, params SnapshotInfo[] snapshots) =>
        [.. policy.Keep(snapshots).Keys.Order()];

    private static long[] Ids(params SnapshotInfo[] snapshots) => [.. snapshots.Select(s => s.Id).Order()];

    [Fact]
    public void Keep_last_keeps_the_newest_n_by_time_not_by_list_order()
    {
        var s1 = At("2025-01-01T10:00:00");
        var s2 = At("2025-01-01T11:00:00");
        var s3 = At("2025-01-01T12:00:00");
        var s4 = At("2025-01-01T13:00:00");

        Assert.Equal(Ids(s3, s4), Kept(new RetentionPolicy(KeepLast: 2), s4, s1, s3, s2));
        Assert.Equal(Ids(s4), Kept(new RetentionPolicy(KeepLast: 1), s1, s2, s3, s4));
        Assert.Equal(Ids(s1, s2, s3, s4), Kept(new RetentionPolicy(KeepLast: 10), s1, s2, s3, s4));
    }

    [Fact]
    public void Keep_last_gives_each_kept_snapshot_its_reason()
    {
        var s1 = At("2025-01-01T10:00:00");
        var s2 = At("2025-01-01T11:00:00");

        var keep = new RetentionPolicy(KeepLast: 2).Keep([s1, s2]);

        Assert.Equal(["last"], keep[s1.Id]);
        Assert.Equal(["last", "last complete"], keep[s2.Id]);
    }

    [Fact]
    public void Daily_keeps_the_newest_of_each_of_the_last_n_days_that_have_a_snapshot()
    {
        var day1Early = At("2025-03-01T08:00:00");
        var day1Late = At("2025-03-01T23:59:00");
        var day5 = At("2025-03-05T12:00:00");
        var day9Early = At("2025-03-09T00:00:00");
        var day9Late = At("2025-03-09T18:30:00");

        // Days without a snapshot (2-4, 6-8) are not counted: "the last 2 days that have one".
        Assert.Equal(Ids(day5, day9Late), Kept(new RetentionPolicy(KeepDaily: 2), day1Early, day1Late, day5, day9Early, day9Late));
        Assert.Equal(Ids(day1Late, day5, day9Late), Kept(new RetentionPolicy(KeepDaily: 3), day1Early, day1Late, day5, day9Early, day9Late));
        Assert.Equal(Ids(day1Late, day5, day9Late), Kept(new RetentionPolicy(KeepDaily: 30), day1Early, day1Late, day5, day9Early, day9Late));
    }

    [Fact]
    public void Daily_days_are_utc_calendar_days()
    {
        var beforeMidnight = At("2025-03-01T23:30:00");
        var afterMidnight = At("2025-03-02T00:30:00");

        Assert.Equal(Ids(beforeMidnight, afterMidnight), Kept(new RetentionPolicy(KeepDaily: 2), beforeMidnight, afterMidnight));

        // The same two instants written with an offset are still two UTC days.
        var shifted = new[] { beforeMidnight, afterMidnight }.Select(s => s with { Time = s.Time.ToOffset(TimeSpan.FromHours(5)) }).ToArray();
        Assert.Equal(Ids(beforeMidnight, afterMidnight), Kept(new RetentionPolicy(KeepDaily: 2), shifted));
    }

    [Fact]
    public void Weekly_uses_iso_weeks_across_a_year_boundary()
    {
        // ISO 2024-W52: Mon 23 Dec – Sun 29 Dec 2024. ISO 2025-W01: Mon 30 Dec 2024 – Sun 5 Jan 2025.
        var w52Saturday = At("2024-12-28T10:00:00");
        var w52Sunday = At("2024-12-29T10:00:00");
        var w01Monday2024 = At("2024-12-30T10:00:00");
        var w01Thursday2025 = At("2025-01-02T10:00:00");
        var w02Monday = At("2025-01-06T10:00:00");

        var all = new[] { w52Saturday, w52Sunday, w01Monday2024, w01Thursday2025, w02Monday };
        Assert.Equal(Ids(w02Monday, w01Thursday2025), Kept(new RetentionPolicy(KeepWeekly: 2), all));
        Assert.Equal(Ids(w02Monday, w01Thursday2025, w52Sunday), Kept(new RetentionPolicy(KeepWeekly: 3), all));

        // Week 53 of 2020 runs into 2021: Thursday 31 Dec 2020 and Sunday 3 Jan 2021 are one week.
        var w53Thursday = At("2020-12-31T10:00:00");
        var w53Sunday = At("2021-01-03T10:00:00");
        var w01 = At("2021-01-04T10:00:00");
        Assert.Equal(Ids(w53Sunday, w01), Kept(new RetentionPolicy(KeepWeekly: 5), w53Thursday, w53Sunday, w01));
    }

    [Fact]
    public void Monthly_keeps_the_newest_of_each_of_the_last_n_months_that_have_a_snapshot()
    {
        var jan1 = At("2025-01-03T10:00:00");
        var jan31 = At("2025-01-31T23:00:00");
        var feb = At("2025-02-14T10:00:00");
        var apr1 = At("2025-04-01T00:00:00");
        var apr30 = At("2025-04-30T10:00:00");

        Assert.Equal(Ids(feb, apr30), Kept(new RetentionPolicy(KeepMonthly: 2), jan1, jan31, feb, apr1, apr30));
        Assert.Equal(Ids(jan31, feb, apr30), Kept(new RetentionPolicy(KeepMonthly: 12), jan1, jan31, feb, apr1, apr30));
    }

    [Fact]
    public void Rules_combine_as_a_union_and_a_snapshot_kept_twice_lists_both_reasons()
    {
        // Hourly snapshots over three days, then one a month earlier.
        var monthBefore = At("2025-02-10T12:00:00");
        var snapshots = new List<SnapshotInfo> { monthBefore };
        for (var day = 1; day <= 3; day++)
        {
            for (var hour = 9; hour <= 17; hour += 4)
            {
                snapshots.Add(At($"2025-03-0{day}T{hour:00}:00:00"));
            }
        }

        var newest = snapshots[^1];
        var previous = snapshots[^2];
        var day2Last = snapshots.Single(s => s.Time == new DateTimeOffset(2025, 3, 2, 17, 0, 0, TimeSpan.Zero));
        var day1Last = snapshots.Single(s => s.Time == new DateTimeOffset(2025, 3, 1, 17, 0, 0, TimeSpan.Zero));

        var keep = new RetentionPolicy(KeepLast: 2, KeepDaily: 2, KeepMonthly: 2).Keep(snapshots);

        Assert.Equal(Ids(previous, newest, day2Last, monthBefore), keep.Keys.Order());
        Assert.Equal(["last", "daily", "monthly", "last complete"], keep[newest.Id]);
        Assert.Equal(["last"], keep[previous.Id]);
        Assert.Equal(["daily"], keep[day2Last.Id]);
        Assert.Equal(["monthly"], keep[monthBefore.Id]);
        Assert.DoesNotContain(day1Last.Id, keep.Keys);
    }

    [Fact]
    public void A_suspect_newest_snapshot_does_not_push_out_the_last_complete_one()
    {
        var older = At("2025-03-01T10:00:00", files: 500);
        var complete = At("2025-03-02T10:00:00", files: 500);
        var suspect = At("2025-03-03T10:00:00", suspect: true, files: 3);

        var keep = new RetentionPolicy(KeepLast: 1).Keep([older, complete, suspect]);

        Assert.Equal(Ids(complete, suspect), keep.Keys.Order());
        Assert.Equal(["last complete"], keep[complete.Id]);
        Assert.Equal(["last"], keep[suspect.Id]);

        // Same day: daily keeps the suspect one as the day's newest; the complete one stays too.
        var sameDayComplete = At("2025-03-04T09:00:00", files: 500);
        var sameDaySuspect = At("2025-03-04T10:00:00", suspect: true, files: 3);
        Assert.Equal(Ids(sameDayComplete, sameDaySuspect), Kept(new RetentionPolicy(KeepDaily: 1), sameDayComplete, sameDaySuspect));
    }

    [Fact]
    public void Several_suspect_snapshots_in_a_row_still_keep_the_last_complete_one()
    {
        var complete = At("2025-03-01T10:00:00");
        var suspect1 = At("2025-03-02T10:00:00", suspect: true, files: 3);
        var suspect2 = At("2025-03-03T10:00:00", suspect: true, files: 2);

        Assert.Equal(Ids(complete, suspect2), Kept(new RetentionPolicy(KeepLast: 1), complete, suspect1, suspect2));
    }

    [Fact]
    public void Equal_times_are_ordered_by_id()
    {
        var first = At("2025-03-01T10:00:00");
        var second = first with { Id = first.Id + 1000 };

        Assert.Equal(Ids(second), Kept(new RetentionPolicy(KeepLast: 1), first, second));
    }

    [Fact]
    public void No_snapshots_keep_nothing()
    {
        Assert.Empty(new RetentionPolicy(KeepLast: 3, KeepDaily: 7).Keep([]));
    }

    [Theory]
    [InlineData(-1, 0, 0, 0)]
    [InlineData(1, -1, 0, 0)]
    [InlineData(1, 0, -1, 0)]
    [InlineData(1, 0, 0, -1)]
    public void Negative_counts_are_refused(int last, int daily, int weekly, int monthly)
    {
        Assert.Throws<ArgumentException>(() => new RetentionPolicy(last, daily, weekly, monthly).Keep([At("2025-03-01T10:00:00")]));
    }

    [Fact]
    public void Only_the_policy_with_no_rule_at_all_is_empty()
    {
        Assert.True(new RetentionPolicy().IsEmpty);
        Assert.False(new RetentionPolicy(KeepLast: 1).IsEmpty);
        Assert.False(new RetentionPolicy(KeepDaily: 1).IsEmpty);
        Assert.False(new RetentionPolicy(KeepWeekly: 1).IsEmpty);
        Assert.False(new RetentionPolicy(KeepMonthly: 1).IsEmpty);
    }

    [Fact]
    public async Task Pruner_refuses_an_empty_policy_and_removes_nothing()
    {
        using var temp = new TempFolder();
        using var store = await TestStore.OpenAsync(temp["store"], temp.Path);
        var id = await store.BackupAsync("ALPHA-1", new Dictionary<string, byte[]> { ["a.txt"] = TestData.Text(1000) });
        var packs = (await store.PackFilesOnDiskAsync());

        var e = await Assert.ThrowsAsync<ArgumentException>(() => new Pruner(store.Store).PruneAsync(new RetentionPolicy(), dryRun: false, TimeSpan.FromSeconds(5), null, CancellationToken.None));

        Assert.Contains("--keep-last", e.Message, StringComparison.Ordinal);
        Assert.Equal([id], store.SnapshotIds());
        Assert.Equal(packs, (await store.PackFilesOnDiskAsync()));
    }

    [Theory]
    [InlineData(10, 4, true)]
    [InlineData(10, 5, false)]
    [InlineData(1000, 499, true)]
    [InlineData(1000, 500, false)]
    [InlineData(9, 0, false)]
    [InlineData(10, 0, true)]
    [InlineData(10, 20, false)]
    public void A_snapshot_is_suspect_when_fewer_than_half_of_at_least_ten_files_remain(long before, long now, bool suspect)
    {
        Assert.Equal(suspect, Catalog.IsSuspect(before, now));
    }
}
