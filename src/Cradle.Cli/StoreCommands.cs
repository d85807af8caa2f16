using System.CommandLine;
using Cradle.Host;

namespace Cradle.Cli;

/// <summary><c>cradle host check</c> and <c>cradle host prune</c>: keeping the store trustworthy and lean.</summary>
internal static class StoreCommands
{
    public static Command Check()
    {
        var store = new StoreOptions(packs: true);
        var readData = new Option<bool>("--read-data") { Description = "Also read every chunk and verify its hash (slow: reads the whole store)" };
        var json = CommonOptions.Json();
        var command = new Command("check", "Verify the store: packs present and whole, catalog rows pointing somewhere, every snapshot's chunks there; exit 5 when anything is wrong") { readData, json };
        foreach (var option in store.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var asJson = result.GetValue(json);
            var report = await opened.CheckAsync(result.GetValue(readData), asJson ? null : new Progress<string>(m => Console.Error.WriteLine(m)), cancellationToken).ConfigureAwait(false);
            if (asJson)
            {
                CliJson.Print(report, CliJson.Default.CheckResult);
            }
            else
            {
                Print(report);
            }

            return report.Ok ? ExitCodes.Ok : ExitCodes.StoreDamaged;
        }));
        return command;
    }

    private static void Print(CheckResult report)
    {
        Console.Out.WriteLine($"{Format.Count(report.Packs, "pack")}, {Format.Count(report.Chunks, "chunk")}, {Format.Count(report.Snapshots, "snapshot")}{(report.ReadData ? $", {Format.Bytes(report.BytesRead)} read and verified" : "")}");
        foreach (var note in report.Notes)
        {
            Console.Out.WriteLine($"note: {note}");
        }

        foreach (var p in report.Problems)
        {
            Console.Out.WriteLine($"PROBLEM {p.Kind}: {p.Detail}");
            foreach (var a in p.Affected)
            {
                Console.Out.WriteLine($"  affects snapshot {a.Snapshot} of {a.Device}: {Format.Count(a.Files, "file")}{(a.Paths.Count > 0 ? ": " + string.Join(", ", a.Paths) : "")}");
            }
        }

        Console.Out.WriteLine(report.Ok ? "no problems found" : $"{Format.Count(report.Problems.Count, "problem")} found");
    }

    public static Command Prune()
    {
        var store = new StoreOptions(packs: true);
        var last = new Option<int>("--keep-last") { Description = "Keep the last N snapshots of each device", HelpName = "N" };
        var daily = new Option<int>("--keep-daily") { Description = "Keep the newest snapshot of each of the last N days that have one (UTC)", HelpName = "N" };
        var weekly = new Option<int>("--keep-weekly") { Description = "... of each of the last N ISO weeks", HelpName = "N" };
        var monthly = new Option<int>("--keep-monthly") { Description = "... of each of the last N months", HelpName = "N" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be removed; change nothing" };
        var yes = HostCommands.Yes();
        var json = CommonOptions.Json();
        var command = new Command("prune", "Remove snapshots outside the retention policy, then data no snapshot needs (repacking half-empty packs), after showing what goes and asking (--yes: without asking). The newest complete snapshot of each device always stays") { last, daily, weekly, monthly, dryRun, yes, json };
        foreach (var option in store.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var policy = new KeepPolicy(result.GetValue(last), result.GetValue(daily), result.GetValue(weekly), result.GetValue(monthly));
            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var asJson = result.GetValue(json);
            var progress = asJson ? null : new Progress<string>(m => Console.Error.WriteLine(m));
            // What would go, shown first; the real run removes no more than that.
            var plan = await opened.PruneAsync(policy, dryRun: true, TimeSpan.FromMinutes(1), progress, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(dryRun) || plan.Removed.Count == 0 && plan.PacksDeleted == 0 && plan.PacksRepacked == 0 && plan.OrphanFilesDeleted == 0)
            {
                Report(plan, asJson);
                return ExitCodes.Ok;
            }

            if (!asJson)
            {
                Report(plan, asJson: false, preview: true);
            }

            var options = string.Join(" ", new[] { ("--keep-last", policy.KeepLast), ("--keep-daily", policy.KeepDaily), ("--keep-weekly", policy.KeepWeekly), ("--keep-monthly", policy.KeepMonthly) }
                .Where(o => o.Item2 > 0).Select(o => $"{o.Item1} {o.Item2}"));
            if (Confirmation.Ask(result.GetValue(yes), $"Remove {Format.Count(plan.Removed.Count, "snapshot")} and the data no other snapshot needs?", $"cradle host prune {options}") is { } stop)
            {
                return stop;
            }

            var report = await opened.PruneAsync(policy, dryRun: false, TimeSpan.FromMinutes(1), progress, cancellationToken, plan.Removed.Select(r => r.Id).ToHashSet()).ConfigureAwait(false);
            Report(report, asJson);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>What prune did or would do; a <paramref name="preview"/> is what a real run is about to do, shown before it asks.</summary>
    private static void Report(PruneResult report, bool asJson, bool preview = false)
    {
        if (asJson)
        {
            CliJson.Print(report, CliJson.Default.PruneResult);
            return;
        }

        var verb = report.DryRun ? "would remove" : "removed";
        foreach (var s in report.Removed)
        {
            Console.Out.WriteLine($"{verb} snapshot {s.Id} of {s.Device} ({Format.Time(s.Time)}, {Format.Count(s.Files, "file")}, {Format.Bytes(s.Bytes)})");
        }

        Console.Out.WriteLine($"{(preview ? "" : report.DryRun ? "dry run: " : "")}{Format.Count(report.Removed.Count, "snapshot")} {(report.DryRun ? "would be removed" : "removed")}, {report.SnapshotsKept} kept; packs: {report.PacksDeleted} {(report.DryRun ? "to delete" : "deleted")}, {report.PacksRepacked} {(report.DryRun ? "to repack" : "repacked")}, {Format.Count(report.OrphanFilesDeleted, "unnamed file")} {(report.DryRun ? "to delete" : "deleted")}; {Format.Bytes(report.BytesFreed)} {(report.DryRun ? "would be " : "")}freed");
    }
}
