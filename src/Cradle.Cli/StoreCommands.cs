using System.CommandLine;
using Cradle.Store;

namespace Cradle.Cli;

/// <summary><c>cradle host check</c> and <c>cradle host prune</c>: keeping the store trustworthy and lean.</summary>
internal static class StoreCommands
{
    public static Command Check()
    {
        var data = CommonOptions.Data();
        var packs = Settings.HostRunOptions.PacksOption();
        var catalogOption = CommonOptions.Catalog();
        var readData = new Option<bool>("--read-data") { Description = "Also read every chunk and verify its hash (slow: reads the whole store)" };
        var json = CommonOptions.Json();
        var command = new Command("check", "Verify the store: packs present and whole, catalog rows pointing somewhere, every snapshot's chunks there; exit 5 when anything is wrong") { data, packs, catalogOption, readData, json };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var opened = await HostStore.OpenAsync(result, data, catalogOption, packs, cancellationToken).ConfigureAwait(false);
            var store = opened.Store;
            using var lease = store.Lease("check");
            var asJson = result.GetValue(json);
            var report = new StoreChecker(store).Check(result.GetValue(readData), asJson ? null : new Progress<string>(m => Console.Error.WriteLine(m)), cancellationToken);
            if (asJson)
            {
                CliJson.Print(report, CliJson.Default.CheckReport);
            }
            else
            {
                Print(report);
            }

            return report.Ok ? ExitCodes.Ok : ExitCodes.StoreDamaged;
        }));
        return command;
    }

    private static void Print(CheckReport report)
    {
        Console.Out.WriteLine($"{report.Packs} packs, {report.Chunks} chunks, {report.Snapshots} snapshots{(report.ReadData ? $", {Format.Bytes(report.BytesRead)} read and verified" : "")}");
        foreach (var note in report.Notes)
        {
            Console.Out.WriteLine($"note: {note}");
        }

        foreach (var p in report.Problems)
        {
            Console.Out.WriteLine($"PROBLEM {p.Kind}: {p.Detail}");
            foreach (var a in p.Affected)
            {
                Console.Out.WriteLine($"  affects snapshot {a.Snapshot} of {a.Device}: {a.Files} files{(a.Paths.Count > 0 ? ": " + string.Join(", ", a.Paths) : "")}");
            }
        }

        Console.Out.WriteLine(report.Ok ? "no problems found" : $"{report.Problems.Count} problems found");
    }

    public static Command Prune()
    {
        var data = CommonOptions.Data();
        var packs = Settings.HostRunOptions.PacksOption();
        var catalogOption = CommonOptions.Catalog();
        var last = new Option<int>("--keep-last") { Description = "Keep the last N snapshots of each device", HelpName = "N" };
        var daily = new Option<int>("--keep-daily") { Description = "Keep the newest snapshot of each of the last N days that have one (UTC)", HelpName = "N" };
        var weekly = new Option<int>("--keep-weekly") { Description = "... of each of the last N ISO weeks", HelpName = "N" };
        var monthly = new Option<int>("--keep-monthly") { Description = "... of each of the last N months", HelpName = "N" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be removed; change nothing" };
        var json = CommonOptions.Json();
        var command = new Command("prune", "Remove snapshots outside the retention policy, then data no snapshot needs (repacking half-empty packs). The newest complete snapshot of each device always stays") { data, packs, catalogOption, last, daily, weekly, monthly, dryRun, json };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var policy = new RetentionPolicy(result.GetValue(last), result.GetValue(daily), result.GetValue(weekly), result.GetValue(monthly));
            using var opened = await HostStore.OpenAsync(result, data, catalogOption, packs, cancellationToken).ConfigureAwait(false);
            var store = opened.Store;
            var asJson = result.GetValue(json);
            var report = await new Pruner(store).PruneAsync(policy, result.GetValue(dryRun), TimeSpan.FromMinutes(1), asJson ? null : new Progress<string>(m => Console.Error.WriteLine(m)), cancellationToken).ConfigureAwait(false);
            if (asJson)
            {
                CliJson.Print(report, CliJson.Default.PruneReport);
                return ExitCodes.Ok;
            }

            var verb = report.DryRun ? "would remove" : "removed";
            foreach (var s in report.Removed)
            {
                Console.Out.WriteLine($"{verb} snapshot {s.Id} of {s.Device} ({Format.Time(s.Time)}, {s.Files} files, {Format.Bytes(s.Bytes)})");
            }

            Console.Out.WriteLine($"{(report.DryRun ? "dry run: " : "")}{report.Removed.Count} snapshots {verb}, {report.SnapshotsKept} kept; packs: {report.PacksDeleted} deleted, {report.PacksRepacked} repacked, {report.OrphanFilesDeleted} unnamed files {(report.DryRun ? "to delete" : "deleted")}; {Format.Bytes(report.BytesFreed)} {(report.DryRun ? "would be " : "")}freed");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
