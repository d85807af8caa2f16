using System.CommandLine;
using Cradle.Host;
using Cradle.Protocol;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary><c>cradle host devices</c>, <c>snapshots</c>, <c>forget</c> and <c>allow-restore</c>: the devices a host keeps and their snapshots.</summary>
internal static partial class HostCommands
{
    private static Command Devices()
    {
        var store = new StoreOptions(packs: false);
        var json = CommonOptions.Json();
        var command = new Command("devices", "Every device this host has a partnership with: its number, last backup and how that backup stands") { json };
        AddAll(command, store.All);
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var rows = opened.Devices(HostReports.DefaultOverdueAfter, DateTimeOffset.UtcNow);
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListDeviceRow);
                return ExitCodes.Ok;
            }

            if (rows.Count == 0)
            {
                Console.Out.WriteLine("no partnerships yet");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("device", "number", "created", "last backup", "last snapshot", "link", "snapshots", "size");
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.Name) + (r.Confirmed ? "" : " (unconfirmed)"), r.NumberHex, Format.Time(r.Created), Format.Time(r.LastBackup) + (r.Overdue ? " (overdue)" : ""),
                    r.LastSnapshot is { } last ? $"{last} {r.LastStatus}" : "-", r.LastLink ?? "-", Format.Number(r.Snapshots), Format.Bytes(r.Bytes));
            }

            AnsiConsole.Write(table);
            foreach (var r in rows.Where(r => !r.Confirmed))
            {
                Console.Out.WriteLine($"{r.Name}: unconfirmed — the device has not yet shown that it stored this partnership; a new pairing under its name replaces it");
            }

            foreach (var r in rows.Where(r => r.LastNote is not null))
            {
                Console.Out.WriteLine($"{r.Name}: snapshot {r.LastSnapshot} is {r.LastNote}");
            }

            foreach (var r in rows.Where(r => r.Overdue))
            {
                Console.Out.WriteLine($"{r.Name}: overdue — no backup for more than {HostReports.DefaultOverdueAfter.TotalHours:0} hours");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Snapshots()
    {
        var store = new StoreOptions(packs: false);
        var json = CommonOptions.Json();
        var device = new Argument<string?>("DEVICE") { Description = "Only this device's snapshots", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("snapshots", "Snapshots, oldest first, and how each stands: complete, partial (something could not be read), empty, or suspect (most files vanished)") { json, device };
        AddAll(command, store.All);
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var name = result.GetValue(device);
            var rows = opened.Snapshots(name is null ? null : DeviceName.Parse(name));
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListSnapshotRow);
                return ExitCodes.Ok;
            }

            if (rows.Count == 0)
            {
                Console.Out.WriteLine(name is null ? "no snapshots yet" : $"no snapshots of {DeviceName.Parse(name)} yet");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("id", "device", "time", "files", "size", "link", "status", "verified unchanged");
            foreach (var r in rows)
            {
                table.AddRow(Format.Number(r.Id), Markup.Escape(r.Device), Format.Time(r.Time), Format.Number(r.Files), Format.Bytes(r.Bytes), r.Link,
                    r.Status == SnapshotStatus.Complete ? r.Status : r.Status.ToUpperInvariant(), r.Verified is { } v ? Format.Time(v) : "-");
            }

            AnsiConsole.Write(table);
            foreach (var r in rows.Where(r => r.Note is not null))
            {
                Console.Out.WriteLine($"snapshot {r.Id}: {r.Note}");
                foreach (var p in r.ProblemList ?? [])
                {
                    Console.Out.WriteLine($"  {(p.Path.Length == 0 ? "" : p.Path + (p.Folder ? "/" : "") + ": ")}{p.Reason}{(p.CarriedForward > 0 ? $" (kept: {Format.Count(p.CarriedForward, "entry", "entries")} of snapshot {p.FromSnapshot})" : " (no earlier version)")}");
                }

                if (r.Problems > (r.ProblemList?.Count ?? 0))
                {
                    Console.Out.WriteLine($"  … and {r.Problems - (r.ProblemList?.Count ?? 0)} more ('cradle host snapshots --json' lists the first {SnapshotRow.ProblemsListed})");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Forget()
    {
        var store = new StoreOptions(packs: false);
        var device = new Argument<string>("DEVICE") { Description = "The device to forget" };
        var keep = new Option<bool>("--keep-backups") { Description = "Release the name but keep its snapshots: restorable to a folder (cradle host restore) or to a device (cradle host allow-restore)" };
        var yes = Yes();
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be removed; change nothing" };
        var command = new Command("forget", "Remove a device's partnership (releasing its name) and its snapshots from this host, after showing what goes and asking (--yes: without asking); the device must partner again") { device, keep, yes, dryRun };
        AddAll(command, store.All);
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var name = DeviceName.Parse(result.GetValue(device));
            var keepBackups = result.GetValue(keep);
            Console.Out.WriteLine(DescribeForget(opened, name, keepBackups));
            if (result.GetValue(dryRun))
            {
                Console.Out.WriteLine("dry run: nothing changed");
                return ExitCodes.Ok;
            }

            if (Confirmation.Ask(result.GetValue(yes), $"Forget {name}?", $"cradle host forget {name}{(keepBackups ? " --keep-backups" : "")}") is { } stop)
            {
                return stop;
            }

            var forgot = opened.Forget(name, keepBackups);
            Console.Out.WriteLine(keepBackups
                ? $"forgot {forgot.Device}: partnership removed, the name is free to partner again; {Format.Count(forgot.SnapshotsKept, "snapshot")} kept, restorable with 'cradle host restore {forgot.Device} --to DIR' or onto a device with 'cradle host allow-restore {forgot.Device} --to NAME'"
                : $"forgot {forgot.Device}: partnership {(forgot.PartnershipRemoved ? "removed" : "was already gone")}, {Format.Count(forgot.SnapshotsRemoved, "snapshot")} removed ('cradle host prune' frees the data no other snapshot needs)");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>What forgetting a device will remove, in words, before anything is asked or done.</summary>
    private static string DescribeForget(HostRepository store, DeviceName device, bool keepBackups)
    {
        var name = store.RequireDevice(device);
        using var registry = store.OpenRegistry();
        var record = registry.Find(device);
        var snapshots = store.Snapshots(device);
        var partnership = record is null ? "no partnership (forgotten before)" : $"its partnership (number {new PartnershipNumber(record.Number)}, made {Format.Time(record.Created)})";
        var kept = snapshots.Count == 0 ? "no snapshots"
            : $"{Format.Count(snapshots.Count, "snapshot")} ({Format.Bytes(snapshots.Sum(s => s.Bytes))} of files; {snapshots[0].Id} of {Format.Time(snapshots[0].Time)} to {snapshots[^1].Id} of {Format.Time(snapshots[^1].Time)})";
        return keepBackups
            ? $"forgetting {name} removes {partnership} and keeps {kept}"
            : $"forgetting {name} removes {partnership} and {kept}";
    }

    private static Command AllowRestore()
    {
        var store = new StoreOptions(packs: false);
        var device = new Argument<string>("DEVICE") { Description = "The device whose snapshots may be restored" };
        var to = new Option<string>("--to") { Description = "The device name allowed to restore them (a guest, a cold-booted device, a replacement)", Required = true, HelpName = "NAME" };
        var expires = new Option<double>("--expires") { Description = "Minutes the permission lasts; it is used up by the first restore", DefaultValueFactory = _ => 60, HelpName = "MINUTES" };
        var command = new Command("allow-restore", "Allow a device to restore another's (or its own, after a cold boot) files onto itself, once, until it expires") { device, to, expires };
        AddAll(command, store.All);
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var minutes = result.GetValue(expires);
            if (minutes is <= 0 or > 7 * 24 * 60)
            {
                throw new ArgumentException($"--expires {minutes}: give 0 < MINUTES <= {7 * 24 * 60}");
            }

            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var source = DeviceName.Parse(result.GetValue(device));
            var target = DeviceName.Parse(result.GetValue(to)!);
            var spelled = opened.RequireDevice(source);
            var snapshots = opened.Snapshots(source);
            if (snapshots.Count == 0)
            {
                throw new ArgumentException($"this host keeps no snapshot of {spelled} yet: there is nothing to restore");
            }

            using var registry = opened.OpenRegistry();
            var grant = registry.AllowRestore(source, target, TimeSpan.FromMinutes(minutes));
            var newest = snapshots[^1];
            Console.Out.WriteLine($"allowed {grant.To} to restore {grant.Source}'s files once, until {Format.Time(grant.Expires)} ({Format.Count(snapshots.Count, "snapshot")} kept, newest {newest.Id} of {Format.Time(newest.Time)})");
            Console.Out.WriteLine($"  on the device: cradle device restore --host THIS-HOST{(source.Equals(target) ? "" : $" --from {grant.Source}")} [--snapshot ID]");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The confirmation flag of a command that removes something.</summary>
    internal static Option<bool> Yes() => CommonOptions.Yes();

    private static void AddAll(Command command, IEnumerable<Option> options)
    {
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
    }
}
