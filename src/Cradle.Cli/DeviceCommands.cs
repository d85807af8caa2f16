using System.CommandLine;
using System.Globalization;
using Cradle.Cli.Logging;
using Cradle.Cli.Settings;
using Cradle.Device;
using Cradle.Links;
using Cradle.Protocol;
using Microsoft.Extensions.Logging;

namespace Cradle.Cli;

/// <summary><c>cradle device …</c>: what runs on the handheld.</summary>
internal static partial class DeviceCommands
{
    /// <summary>The device's commands by name, in help's order, each made only when it is wanted.</summary>
    public static readonly IReadOnlyList<(string Name, Func<Command> Make)> Commands =
    [
        ("init", Init),
        ("folders", Folders),
        ("name", Name),
        ("partnerships", Partnerships),
        ("end-partnership", DevicePartnershipCommands.EndPartnership),
        ("connect", Connect),
        ("config", ConfigCommands.Device),
        ("install-service", ServiceCommands.Device),
        ("restore", Restore),
        ("disconnect", Disconnect),
        ("status", Status),
        ("cold-boot", ColdBoot),
    ];

    /// <summary>What <c>device</c> is for (its help; cradle-device's own help too).</summary>
    public const string Description = "The handheld (the client): give it its unique device name, Connect it to a host over USB, serial or the network, back up its data files, Disconnect, and see what a cold boot does to its partnerships";

    /// <summary><c>device</c> with all its commands.</summary>
    public static Command Build()
    {
        var device = new Command("device", Description);
        foreach (var command in Make())
        {
            device.Subcommands.Add(command);
        }

        return device;
    }

    /// <summary>
    /// The device's commands; only the one named <paramref name="only"/> when that is one of them
    /// (cradle-device makes just the command it runs: making all of them was 8 % of its start-up,
    /// docs/BENCHMARKS.md), all of them otherwise (help, a mistyped name).
    /// </summary>
    public static IEnumerable<Command> Make(string? only = null)
    {
        var wanted = Commands.Where(c => c.Name == only).ToList();
        return (wanted.Count == 1 ? wanted : Commands).Select(c => c.Make());
    }

    private static Command Init()
    {
        var state = CommonOptions.State();
        var name = new Option<string>("--name") { Description = "The device name: 1-15 ASCII letters, digits, '-' and '_', starting with a letter", Required = true, HelpName = "NAME" };
        var folders = new Option<string[]>("--folder") { Description = "A data folder to back up (repeat for more)", Required = true, HelpName = "DIR", AllowMultipleArgumentsPerToken = false };
        var command = new Command("init", "Create this device's state: its name and the data folders to back up. Run again with the same name, it adds the folders it lacks and changes nothing else") { state, name, folders };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            var outcome = deviceState.Initialize(result.GetValue(name)!, result.GetValue(folders)!);
            var identity = outcome.Identity;
            Console.Out.WriteLine(outcome.Created
                ? $"device {identity.Name} ready in {deviceState.Folder}"
                : outcome.Added.Count == 0
                    ? $"device {identity.Name} was set up in {deviceState.Folder} already: nothing changed"
                    : $"device {identity.Name} was set up in {deviceState.Folder} already: added {Format.Count(outcome.Added.Count, "data folder")}; its partnerships and backups are untouched");
            foreach (var f in identity.Folders)
            {
                Console.Out.WriteLine($"  backs up {f.Path} as {f.Label}/{(outcome.Created || !outcome.Added.Contains(f) ? "" : " (new)")}");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Name()
    {
        var state = CommonOptions.State();
        var newName = new Argument<string?>("NEW") { Description = "The new name; renaming ends every partnership (a partnership is defined by the name)", Arity = ArgumentArity.ZeroOrOne };
        var yes = new Option<bool>("--yes") { Description = "Rename even when that ends partnerships, without asking (needed when there is no terminal to ask on)" };
        var command = new Command("name", "Show or change the device name") { state, newName, yes };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            var wanted = result.GetValue(newName);
            var old = deviceState.LoadIdentity().Name;
            if (wanted is null)
            {
                Console.Out.WriteLine(old);
                return Task.FromResult(ExitCodes.Ok);
            }

            var slots = deviceState.LoadPartnerships().Slots;
            if (slots.Count > 0 && !DeviceName.Parse(old).Equals(DeviceName.Parse(wanted)))
            {
                var what = string.Join(" and ", slots.Select(s => $"the partnership with {s.HostName} (number {new PartnershipNumber(s.Number)})"));
                Console.Out.WriteLine($"renaming {old} to {DeviceName.Parse(wanted)} ends {what}: a partnership is defined by the name; the hosts keep the old name's backups");
                if (Confirmation.Ask(result.GetValue(yes), "Rename?", $"{DeviceCommandLine.Of($"name {wanted}")}") is { } stop)
                {
                    return Task.FromResult(stop);
                }
            }

            var ended = deviceState.Rename(wanted);
            Console.Out.WriteLine($"renamed {old} to {DeviceName.Parse(wanted)}");
            foreach (var slot in ended)
            {
                Console.Out.WriteLine($"  ended the partnership with {slot.HostName} (number {new PartnershipNumber(slot.Number)}): a partnership is defined by the name");
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Partnerships()
    {
        var state = CommonOptions.State();
        var json = CommonOptions.Json();
        var command = new Command("partnerships", "The partnerships this device holds (two at most)") { state, json };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            deviceState.LoadIdentity();
            var rows = deviceState.LoadPartnerships().Slots.Select(s => new PartnershipRow(
                s.HostName, s.HostId, s.Address, s.Number, new PartnershipNumber(s.Number).ToString(),
                DateTimeOffset.FromUnixTimeMilliseconds(s.CreatedUnixMs), LastBackupStatus.From([s]))).ToList();
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListPartnershipRow);
            }
            else if (rows.Count == 0 && deviceState.LoadPartnerships().Candidate is null)
            {
                Console.Out.WriteLine("no partnerships");
            }
            else
            {
                ConsoleTable.Write(
                    ["host", "number", "address", "since", "last backup"],
                    rows.Select(r => (IReadOnlyList<string>)[r.Host, r.NumberHex, r.Address, Format.Time(r.Created), Format.Time(r.LastBackup?.Time)]));
                if (deviceState.LoadPartnerships().Candidate is { } waiting)
                {
                    Console.Out.WriteLine($"{waiting.HostName}  at {waiting.Address}  waits for your consent: code {waiting.Code} (connect again with --accept-new-host {waiting.Code} to accept it)");
                }
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Connect()
    {
        var connect = new DeviceConnectOptions();
        var json = CommonOptions.Json();
        var command = new Command("connect", $"Connect to a host over the network, a serial port or the USB cable, make or check the partnership, back up; without --once stay connected, back up changes, reconnect after a drop or a resume, until '{DeviceCommandLine.Of("disconnect")}' or Ctrl-C. Every flag also has a key in the state folder's cradle.json and a CRADLE_DEVICE__ variable ({DeviceCommandLine.Of("config")} shows them)") { json };
        foreach (var option in connect.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var settings = connect.Load(result);
            var deviceState = new DeviceState(settings.Folder);
            var hostRoute = DeviceConnectOptions.ToRoute(settings);
            var seconds = settings.Number("interval");
            using var loggers = CradleLogging.CreateFileOnly(LogOptions.From(settings));
            var logger = loggers.CreateLogger("Cradle.Device");
            var options = DeviceConnectOptions.ToDeviceOptions(settings) with { Logger = logger };
            if (settings.Flag("guest"))
            {
                var hostName = await new DeviceAgent(deviceState, hostRoute, options, new StreamingObserver(logger)).VisitAsGuestAsync(cancellationToken).ConfigureAwait(false);
                var name = deviceState.LoadIdentity().Name;
                Console.Out.WriteLine($"connected to {hostName} over {hostRoute} as a guest: no partnership, no backup, nothing stored for {name} on {hostName}");
                Console.Out.WriteLine($"  to restore files: the operator of {hostName} runs 'cradle host allow-restore DEVICE --to {name}', then run '{DeviceCommandLine.Of("restore")}' with the same link here");
                return ExitCodes.Ok;
            }

            if (settings.Flag("once"))
            {
                var backup = await ProgressDisplay.DeviceAsync($"backup over {hostRoute}", observer =>
                    new DeviceAgent(deviceState, hostRoute, options, observer).RunOnceAsync(cancellationToken)).ConfigureAwait(false);
                PrintBackup(deviceState, backup, result.GetValue(json));
                return backup.Incomplete ? ExitCodes.Incomplete : ExitCodes.Ok;
            }

            var agent = new DeviceAgent(deviceState, hostRoute, options, new StreamingObserver(logger)) { PollInterval = TimeSpan.FromSeconds(seconds) };
            Console.Out.WriteLine($"connecting over {hostRoute}; '{DeviceCommandLine.Of("disconnect")}' or Ctrl-C ends the session");
            DeviceLog.Connecting(logger, hostRoute.ToString()!);
            await agent.RunAsync(cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine("disconnected");
            DeviceLog.Disconnected(logger);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Restore()
    {
        var state = CommonOptions.State();
        var route = new RouteOptions();
        var snapshot = new Option<long>("--snapshot") { Description = "The snapshot id (default: the newest)", HelpName = "ID" };
        var from = new Option<string?>("--from") { Description = "Whose snapshot: another device name the host's operator allowed (default: this device's name)", HelpName = "DEVICE" };
        var paths = new Option<string[]>("--path") { Description = "Restore only paths matching this pattern (LABEL/dir/*.txt, ** across folders; repeat for more)", HelpName = "GLOB" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace device files that are newer than the snapshot's copy (kept by default)" };
        var json = CommonOptions.Json();
        var command = new Command("restore", "Bring a snapshot's files back from a host into this device's data folders, over any link: under the partnership that made it, or as a guest with the host operator's consent (cradle host allow-restore)") { state, snapshot, from, paths, overwrite, json };
        foreach (var option in route.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            deviceState.LoadIdentity();
            var hostRoute = route.Parse(result);
            var id = result.GetValue(snapshot);
            if (id < 0)
            {
                throw new ArgumentException($"--snapshot {id}: give a snapshot id (cradle host snapshots lists them)");
            }

            var source = result.GetValue(from);
            var choice = new RestoreChoice(id, source is null ? null : DeviceName.Parse(source).Value, result.GetValue(paths), result.GetValue(overwrite));
            var outcome = await ProgressDisplay.DeviceAsync($"restore over {hostRoute}", observer =>
                new DeviceAgent(deviceState, hostRoute, new DeviceOptions(), observer).RestoreAsync(choice, cancellationToken)).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                CliJson.Print(new RestoreRow(outcome.Host, outcome.SnapshotId, outcome.SourceDevice, outcome.Time, outcome.Grounds, outcome.Guest,
                    [.. outcome.Restored], [.. outcome.Skipped.Select(i => new RestoreIssueRow(i.Path, i.Reason))], [.. outcome.Failed.Select(i => new RestoreIssueRow(i.Path, i.Reason))], outcome.Bytes), CliJson.Default.RestoreRow);
            }
            else
            {
                Console.Out.WriteLine($"restored snapshot {outcome.SnapshotId} of {outcome.SourceDevice} ({Format.Time(outcome.Time)}) from {outcome.Host}{(outcome.Guest ? " as a guest" : "")}, {outcome.Grounds}: {outcome.Restored.Count} restored ({Format.Bytes(outcome.Bytes)}), {outcome.Skipped.Count} skipped, {outcome.Failed.Count} failed");
                foreach (var path in outcome.Restored)
                {
                    Console.Out.WriteLine($"  restored {path}");
                }

                foreach (var issue in outcome.Skipped)
                {
                    Console.Out.WriteLine($"  skipped  {issue.Path}: {issue.Reason}");
                }

                foreach (var issue in outcome.Failed)
                {
                    Console.Out.WriteLine($"  failed   {issue.Path}: {issue.Reason}");
                }
            }

            return outcome.Failed.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    private static void PrintBackup(DeviceState state, BackupResult backup, bool json)
    {
        var host = LastBackupStatus.From(state.LoadPartnerships().Slots)?.Host ?? "?";
        if (json)
        {
            CliJson.Print(new BackupRow(host, backup.SnapshotId, backup.Files, backup.Bytes, backup.FilesRead, backup.BytesRead, backup.ChunksSent,
                backup.WireBytesSent, backup.WireBytesReceived, backup.Elapsed.TotalSeconds, backup.Skipped.Count)
            {
                Status = backup.Partial ? "partial" : backup.Empty ? "empty" : backup.Suspect ? "suspect" : "complete",
                Unchanged = backup.Unchanged,
                Note = backup.Note,
                CarriedForward = backup.CarriedForward,
                SnapshotFiles = backup.SnapshotFiles,
                SnapshotBytes = backup.SnapshotBytes,
                CompressionLevel = backup.CompressionLevel,
                HighestCompressionLevel = backup.HighestCompressionLevel,
                Problems = [.. backup.Problems.Select(p => new BackupProblemRow(p.Path, p.FullPath, p.Reason, p.Folder))],
            }, CliJson.Default.BackupRow);
            return;
        }

        var read = $"read {Format.Count(backup.FilesRead, "file")} ({Format.Bytes(backup.BytesRead)}); sent {Format.Count(backup.ChunksSent, "chunk")}, {Format.Bytes(backup.WireBytesSent)} on the link in {Format.Seconds(backup.Elapsed)}{CompressionNote(backup.HighestCompressionLevel)}";
        Console.Out.WriteLine(backup.Unchanged
            ? $"nothing changed since snapshot {backup.SnapshotId} on {host}: no new snapshot; that one ({Format.Count(backup.SnapshotFiles, "file")}, {Format.Bytes(backup.SnapshotBytes)}) is verified as of now; {read}"
            : $"snapshot {backup.SnapshotId} committed on {host}{(backup.Incomplete ? $" as {(backup.Partial ? "PARTIAL" : backup.Empty ? "EMPTY" : "SUSPECT")}" : "")}: {Format.Count(backup.SnapshotFiles, "file")}, {Format.Bytes(backup.SnapshotBytes)}; {read}");
        if (backup.Note is { } note)
        {
            Console.Out.WriteLine(note);
            foreach (var problem in backup.Problems.Take(20))
            {
                Console.Out.WriteLine($"  could not read {(problem.FullPath.Length > 0 ? problem.FullPath + (problem.Folder ? "/" : "") + ": " : "")}{problem.Reason}");
            }

            if (backup.Problems.Count > 20)
            {
                Console.Out.WriteLine($"  … and {backup.Problems.Count - 20} more (--json lists them all)");
            }
        }

        if (backup.Skipped.Count > 0)
        {
            Console.Out.WriteLine($"{Format.Count(backup.Skipped.Count, "entry", "entries")} left out by design (links, device files; see the warnings)");
        }
    }

    /// <summary>Says so when the chunks were compressed harder than the default because the link was slow.</summary>
    private static string CompressionNote(int? level) =>
        level > Cradle.Content.ChunkCodec.DefaultLevel ? $" (compressed at zstd level {level}: the link was slower than compressing)" : "";

    private static Command Disconnect()
    {
        var state = CommonOptions.State();
        var command = new Command("disconnect", $"End the session of a running '{DeviceCommandLine.Of("connect")}' cleanly") { state };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            var reply = await ControlSocket.TrySendAsync(deviceState, "disconnect", cancellationToken).ConfigureAwait(false);
            if (reply is null)
            {
                Console.Out.WriteLine("not connected");
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"disconnecting from {reply.Status?.Host ?? "the host"}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Status()
    {
        var state = CommonOptions.State();
        var json = CommonOptions.Json();
        var command = new Command("status", "Connected or not, to which host over which link, a running backup's progress, the last backup") { state, json };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            var identity = deviceState.LoadIdentity();
            var reply = await ControlSocket.TrySendAsync(deviceState, "status", cancellationToken).ConfigureAwait(false);
            var status = reply?.Status ?? new DeviceStatus
            {
                Device = identity.Name,
                Connected = false,
                LastBackup = LastBackupStatus.From(deviceState.LoadPartnerships().Slots),
            };
            if (result.GetValue(json))
            {
                CliJson.Print(status, CliJson.Default.DeviceStatus);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine(status.Connected
                ? $"{status.Device}: connected to {status.Host} ({status.Address}) over {status.Link}, {status.Phase}"
                : $"{status.Device}: not connected{(status.LastError is null ? "" : $" ({status.LastError})")}");
            if (!status.Connected && status.NextAttempt is { } next)
            {
                Console.Out.WriteLine($"  trying again at {Format.Time(next)} ({status.Failures} failed in a row; the agent keeps trying, waiting up to a minute between attempts)");
            }

            if (status.Progress is { } p && status.Phase is not "idle" and not "connected")
            {
                Console.Out.WriteLine($"  {p.Phase}: {p.FilesDone}/{Format.Count(p.FilesTotal, "file")}, {Format.Bytes(p.BytesDone)}/{Format.Bytes(p.BytesTotal)}, {Format.Bytes(p.WireBytesSent)} sent");
            }

            Console.Out.WriteLine(status.LastBackup is { } last
                ? $"  last backup: {Format.Time(last.Time)} to {last.Host}, snapshot {last.Snapshot}{(last.Unchanged ? " (nothing had changed)" : "")}, {Format.Count(last.Files, "file")}, {Format.Bytes(last.Bytes)}{CompressionNote(last.CompressionLevel)}{(last.Note is null ? "" : $"; {Format.Flag(last.Note)}")}"
                : "  last backup: never");
            foreach (var problem in status.LastBackup?.Problems ?? [])
            {
                Console.Out.WriteLine($"    could not read {problem}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command ColdBoot()
    {
        var state = CommonOptions.State();
        var yes = CommonOptions.Yes();
        var command = new Command("cold-boot", "Do to the state folder what a cold boot does to a device: the newest partnership and the files cache are lost, the name survives; shows what goes and asks first (--yes: without asking)") { state, yes };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            var identity = deviceState.LoadIdentity();
            var slots = deviceState.LoadPartnerships().Slots;
            var (remaining, newest) = DevicePartnerships.ColdBoot(slots);
            if (newest is null)
            {
                Console.Out.WriteLine($"a cold boot of {identity.Name} loses no partnership (it holds none), only the files cache (the next backup reads every file)");
            }
            else
            {
                var kept = remaining.Select(s => $"the partnership with {s.HostName}").FirstOrDefault();
                Console.Out.WriteLine($"a cold boot of {identity.Name} loses its partnership with {newest.HostName} (number {new PartnershipNumber(newest.Number)}, made {Format.Time(DateTimeOffset.FromUnixTimeMilliseconds(newest.CreatedUnixMs))}) and the files cache; the name{(kept is null ? "" : $" and {kept}")} stay");
            }

            if (Confirmation.Ask(result.GetValue(yes), "Cold-boot?", DeviceCommandLine.Of("cold-boot")) is { } stop)
            {
                return Task.FromResult(stop);
            }

            var lost = deviceState.ColdBoot();
            Console.Out.WriteLine(lost is null
                ? "cold boot: the device held no partnership"
                : $"cold boot: the partnership with {lost.HostName} (number {new PartnershipNumber(lost.Number)}) is lost; reconnecting to it will need a rename (or, when its host allows it, the device reclaims its record with its recovery key)");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>For a long-running connect: every committed backup and every warning, one line each.</summary>
    /// <remarks>
    /// The console keeps the lines people read. The log (a file, when set) gets the engine's own
    /// events (<c>DeviceOptions.Logger</c>, ids 21xx), not these words again.
    /// </remarks>
    private sealed class StreamingObserver(ILogger logger) : ISessionObserver
    {
        public void ApprovalCode(string hostName, string code, TimeSpan timeout) =>
            ProgressDisplay.ShowApprovalCode(hostName, code, timeout);

        public void Warning(string message) => Console.Error.WriteLine($"warning: {message}");

        public void Notice(string message) => Console.Out.WriteLine(message);

        public void Progress(BackupProgress progress)
        {
            if (progress.Phase == "done")
            {
                Console.Out.WriteLine($"backed up {Format.Count(progress.FilesDone, "file")}, {Format.Bytes(progress.BytesDone)}, {Format.Bytes(progress.WireBytesSent)} sent");
            }
            else
            {
                DeviceLog.Progress(logger, progress.Phase, progress.FilesDone, progress.FilesTotal, progress.BytesDone);
            }
        }
    }
}
