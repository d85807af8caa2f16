using System.CommandLine;
using Cradle.Cli.Logging;
using Cradle.Cli.Settings;
using Cradle.Host;
using Cradle.Host.Dashboard;
using Cradle.Links;
using Cradle.Protocol;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary><c>cradle host …</c>: the host service and the operator's commands over the host's folder.</summary>
internal static partial class HostCommands
{
    public static Command Build()
    {
        var host = new Command("host", "The host PC: run the host service that devices connect to, and manage the partnerships and backups it keeps (every device it ever partnered with, until you forget it)");
        host.Subcommands.Add(Run());
        host.Subcommands.Add(ConfigCommands.Host());
        host.Subcommands.Add(ServiceCommands.Host());
        host.Subcommands.Add(Devices());
        host.Subcommands.Add(Snapshots());
        host.Subcommands.Add(Restore());
        host.Subcommands.Add(Forget());
        host.Subcommands.Add(AllowRestore());
        host.Subcommands.Add(StoreCommands.Check());
        host.Subcommands.Add(StoreCommands.Prune());
        host.Subcommands.Add(GetConnectedCommand.Build());
        host.Subcommands.Add(Pending());
        host.Subcommands.Add(Decide("approve", PendingState.Approved, "Approve a waiting partnership; the device shows the same code"));
        host.Subcommands.Add(Decide("deny", PendingState.Denied, "Deny a waiting partnership"));
        host.Subcommands.Add(HttpTokenCommand());
        host.Subcommands.Add(ActiveSyncPassword());
        host.Subcommands.Add(RenameDevice());
        return host;
    }

    private static Command Run()
    {
        var run = new HostRunOptions();
        var command = new Command("run", "Run the host service in the foreground until Ctrl-C: network sessions, serial ports, USB interfaces, the web dashboard. Every flag also has a key in the folder's cradle.json and a CRADLE_HOST__ variable (cradle host config shows them)");
        foreach (var option in run.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            // System.CommandLine routes Ctrl-C and SIGTERM to cancellationToken only once the
            // action has returned its task (its first real await). Yield first: until then a
            // SIGINT kills the process (exit 130) instead of stopping the host cleanly, and the
            // start-up below (store, dashboard) can run synchronously for a good while.
            await Task.Yield();
            var settings = run.Load(result);
            // The packs and the catalog, disposed after the service: an S3 bucket is asked once here.
            using var storage = await HostStorage.OpenAsync(HostStore.Location(settings), cancellationToken).ConfigureAwait(false);
            var dashboardOptions = HostRunOptions.ToDashboardOptions(settings);
            using var loggers = CradleLogging.Create(LogOptions.From(settings));
            var options = storage.Apply(HostRunOptions.ToHostOptions(settings));
            await using var service = await HostService.OpenAsync(options, loggers, cancellationToken).ConfigureAwait(false);
            service.Start();
            Console.Out.WriteLine($"cradle host {service.Name}: data in {service.DataFolder}");
            if (storage.RemotePacks is { } remote)
            {
                Console.Out.WriteLine($"packs in {remote}");
            }
            Console.Out.WriteLine($"catalog: {storage.CatalogDescription}");
            Console.Out.WriteLine($"listening on {service.BoundAddress}");
            await using var dashboard = dashboardOptions is null ? null
                // Not the command's token: Ctrl-C while the dashboard starts stops the host cleanly
                // below (its sessions told, the store closed), not as a cancelled command.
                : await DashboardServer.StartAsync(service, dashboardOptions, loggers, CancellationToken.None).ConfigureAwait(false);
            if (dashboard is not null)
            {
                Console.Out.WriteLine($"dashboard on {dashboard.Address}");
                if (dashboard.TokenCreated)
                {
                    // Shown once, to the operator at the console (never logged): it lives in the host's folder.
                    Console.Out.WriteLine($"dashboard token (new; kept in {dashboard.TokenPath}, mode 0600): {dashboard.RevealToken()}");
                    Console.Out.WriteLine($"  open {dashboard.Address}?token=TOKEN once in the browser, or send 'Authorization: Bearer TOKEN'");
                }
                else if (dashboard.RequiresToken)
                {
                    Console.Out.WriteLine($"dashboard needs its token (in {dashboard.TokenPath}; 'cradle host http-token' prints it, --rotate replaces it)");
                }
            }

            if (options.AllowReclaim)
            {
                Console.Out.WriteLine("reclaim allowed: a cold-booted device that proves its recovery key takes its old record back");
            }

            foreach (var port in options.SerialPorts)
            {
                Console.Out.WriteLine($"watching serial port {port}");
            }

            foreach (var nic in options.UsbInterfaces)
            {
                Console.Out.WriteLine($"watching USB interface {nic}");
            }

            foreach (var nic in options.ActiveSyncInterfaces)
            {
                Console.Out.WriteLine(nic == HostOptions.ActiveSyncAuto
                    ? "watching every interface a cradled device brings up (driver rndis_host or cdc_ether) for ActiveSync (Windows CE / Windows Mobile devices, TCP 990)"
                    : $"watching ActiveSync interface {nic} (Windows CE / Windows Mobile devices, TCP 990)");
            }

            Console.Out.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.Out.WriteLine("stopping");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Restore()
    {
        var data = CommonOptions.Data();
        var packs = HostRunOptions.PacksOption();
        var catalogOption = CommonOptions.Catalog();
        var device = new Argument<string>("DEVICE") { Description = "The device whose files to restore" };
        var snapshot = new Option<long?>("--snapshot") { Description = "The snapshot id (default: the device's latest)", HelpName = "ID" };
        var to = new Option<string>("--to") { Description = "The folder to restore into: new or empty, or holding an unfinished restore of the same snapshot (which this one finishes)", HelpName = "DIR" };
        var toDevice = new Option<bool>("--to-device") { Description = "Write the snapshot back onto the device itself, an ActiveSync device cradled to the running host (also after a cold boot, without partnering again), with the files' times (RAPI2 devices; RAPI1 devices get the bytes only)" };
        var path = new Option<string?>("--path") { Description = "With --to-device: only this file or folder of the snapshot, e.g. 'My Documents/scans'", HelpName = "PATH" };
        var allowGuest = new Option<bool>("--allow-guest") { Description = "With --to-device: the operator's consent to restore onto a guest (a device that already holds partnerships with two other hosts)" };
        var http = new Option<string?>("--http") { Description = "With --to-device: the running host's API address (default: the one it wrote into its folder)", HelpName = "ADDR:PORT" };
        var json = CommonOptions.Json();
        var overwrite = new Option<bool>("--overwrite") { Description = "Restore into a folder that holds other things: the snapshot's files replace what is at their paths (files already whole are left), other files are left alone" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be restored and what is already whole; write nothing" };
        var command = new Command("restore", "Restore a snapshot's files, folders and times into a folder on the host (--to), or onto a cradled ActiveSync device (--to-device); every chunk is verified. A restore to a folder that was cut resumes when run again: files already whole are kept, its temporary files removed") { data, packs, catalogOption, device, snapshot, to, overwrite, dryRun, toDevice, path, allowGuest, http, json };
        // Where to is a usage error, told before the store is opened (as a missing required option was).
        command.Validators.Add(result =>
        {
            if (result.GetValue(to) is null && !result.GetValue(toDevice))
            {
                result.AddError("'cradle host restore' needs --to DIR or --to-device");
            }
        });
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var store = await HostStore.OpenAsync(result, data, catalogOption, packs, cancellationToken).ConfigureAwait(false);
            using var lease = store.Lease("restore");
            var name = DeviceName.Parse(result.GetValue(device));
            store.RequireDevice(name);
            if (result.GetValue(toDevice))
            {
                if (result.GetValue(to) is not null || result.GetValue(overwrite) || result.GetValue(dryRun))
                {
                    throw new ArgumentException("--to-device writes onto the device: give it without --to, --overwrite or --dry-run");
                }

                return await RestoreToDeviceAsync(store.Folder, result.GetValue(http), name, result.GetValue(snapshot), result.GetValue(path), result.GetValue(allowGuest), result.GetValue(json), cancellationToken).ConfigureAwait(false);
            }

            if (result.GetValue(to) is null || result.GetValue(path) is not null || result.GetValue(allowGuest) || result.GetValue(http) is not null)
            {
                throw new ArgumentException(result.GetValue(to) is null
                    ? "give --to DIR (a folder on this PC) or --to-device (the cradled device itself)"
                    : "--path, --allow-guest and --http go with --to-device");
            }

            var info = store.FindSnapshot(name, result.GetValue(snapshot));
            var target = Path.GetFullPath(result.GetValue(to)!);
            var restored = await ProgressDisplay.RestoreAsync(store, info, target, result.GetValue(overwrite), result.GetValue(dryRun), cancellationToken).ConfigureAwait(false);
            var whole = restored.Whole > 0 ? $"; {Format.Count(restored.Whole, "file")} ({Format.Bytes(restored.WholeBytes)}) already whole, left as they were" : "";
            if (restored.DryRun)
            {
                Console.Out.WriteLine($"dry run: restoring snapshot {info.Id} of {info.Device} into {target} would write {Format.Count(restored.Files, "file")} ({Format.Bytes(restored.Bytes)}), {restored.Replaced} of them over existing files, and {Format.Count(restored.Folders, "folder")}{whole}{(restored.Resumed ? "; it finishes an unfinished restore there" : "")}; nothing was written");
                return ExitCodes.Ok;
            }

            var leftovers = restored.Leftovers > 0 ? $"; removed {restored.Leftovers} temporary files of a restore that was cut" : "";
            var linked = restored.Linked > 0 ? $" ({restored.Linked} of them hard links, as on the device)" : "";
            Console.Out.WriteLine($"restored snapshot {info.Id} of {info.Device}: {Format.Count(restored.Files, "file")}{linked}, {Format.Count(restored.Folders, "folder")}, {Format.Bytes(restored.Bytes)} into {target}{(restored.Resumed ? " (finishing a restore that was cut)" : "")}{whole}{leftovers}; every chunk verified");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command HttpTokenCommand()
    {
        var data = CommonOptions.Data();
        var catalogOption = CommonOptions.Catalog();
        catalogOption.Hidden = true;
        var rotate = new Option<bool>("--rotate") { Description = "Replace the token with a new one; the old one stops working at once, also in a running host" };
        var command = new Command("http-token", "Print the dashboard's access token (needed when it listens beyond loopback), making it when there is none") { data, catalogOption, rotate };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var store = await HostStore.OpenAsync(result, data, catalogOption, null, cancellationToken).ConfigureAwait(false);
            if (result.GetValue(rotate))
            {
                HttpToken.Rotate(store.Folder);
            }

            Console.Out.WriteLine(HttpToken.LoadOrCreate(store.Folder, out _).Reveal());
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Pending()
    {
        var data = CommonOptions.Data();
        var catalogOption = CommonOptions.Catalog();
        catalogOption.Hidden = true;
        var json = CommonOptions.Json();
        var command = new Command("pending", "Partnerships waiting for the operator's approval") { data, catalogOption, json };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var store = await HostStore.OpenAsync(result, data, catalogOption, null, cancellationToken).ConfigureAwait(false);
            var rows = store.Pending();
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListPendingRow);
            }
            else if (rows.Count == 0)
            {
                Console.Out.WriteLine("nothing waits for approval");
            }
            else
            {
                var table = new Table().AddColumns("code", "device", "number", "from", "waiting since");
                foreach (var r in rows)
                {
                    table.AddRow(r.Code, Markup.Escape(r.Device), new PartnershipNumber(r.Number).ToString(), Markup.Escape(r.Address), Format.Time(r.Created));
                }

                AnsiConsole.Write(table);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Decide(string verb, PendingState decision, string description)
    {
        var data = CommonOptions.Data();
        var catalogOption = CommonOptions.Catalog();
        catalogOption.Hidden = true;
        var code = new Argument<string>("CODE") { Description = "The six-digit code both screens show" };
        var command = new Command(verb, description) { data, catalogOption, code };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var opened = await HostStore.OpenAsync(result, data, catalogOption, null, cancellationToken).ConfigureAwait(false);
            var value = result.GetValue(code)!.Trim();
            DecisionDone done;
            try
            {
                // Waits for the running host to say what came of it: "approved" only when a partnership exists.
                done = await opened.DecideAsync(value, decision, TimeProvider.System, ApprovalDecision.OutcomeWait, cancellationToken).ConfigureAwait(false);
            }
            catch (KeyNotFoundException e)
            {
                throw new ArgumentException(e.Message, e);
            }

            if (done.Succeeded)
            {
                Console.Out.WriteLine(done.Message);
                return ExitCodes.Ok;
            }

            Console.Error.WriteLine($"error: {done.Message}");
            return ExitCodes.Failed;
        }));
        return command;
    }
}
