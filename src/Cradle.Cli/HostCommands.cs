using System.CommandLine;
using Cradle.Host;
using Cradle.Host.Dashboard;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Store;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary><c>cradle host …</c>: the host service and the operator's commands over the host's folder.</summary>
internal static class HostCommands
{
    public static Command Build()
    {
        var host = new Command("host", "Run the host and manage what it keeps");
        host.Subcommands.Add(Run());
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
        return host;
    }

    private static Command Run()
    {
        var data = CommonOptions.Data();
        var listen = new Option<string>("--listen") { Description = "Address and port for device sessions (port 0: any free port)", DefaultValueFactory = _ => $"0.0.0.0:{LinkAddress.DefaultPort}", HelpName = "ADDR:PORT" };
        var name = new Option<string?>("--name") { Description = "The host name devices see (default: the stored one, else the machine name)", HelpName = "HOSTNAME" };
        var autoApprove = new Option<bool>("--auto-approve") { Description = "Create network partnerships without the operator's approval (lab setups only)" };
        var allowReclaim = new Option<bool>("--allow-reclaim") { Description = "Let a cold-booted device that proves its recovery key take back its old record: same name and history, a new number, no rename (P9). Off: the device must rename (P7)" };
        var verbose = new Option<bool>("--verbose") { Description = "Log debug detail" };
        var serial = new Option<string[]>("--serial") { Description = "Watch a serial port for devices offering a session; PORT@BAUD fixes the rate, PORT alone scans the common rates (repeat for more ports)", HelpName = "PORT[@BAUD]" };
        var usb = new Option<string[]>("--usb") { Description = "A network interface a USB cable brings up: listen on it while it is up, end its sessions when it goes down (repeat for more)", HelpName = "IFACE" };
        var keepalive = new Option<double>("--keepalive-timeout") { Description = "End a session whose device sent nothing for this long (suspended, cable out); every chunk stored so far is kept", DefaultValueFactory = _ => 15, HelpName = "SECONDS" };
        var http = new Option<string>("--http") { Description = "Address and port of the web dashboard and its JSON API (port 0: any free port; 'off': none). Beyond loopback every request needs the token (cradle host http-token)", DefaultValueFactory = _ => DashboardOptions.DefaultAddress.ToString(), HelpName = "ADDR:PORT|off" };
        var overdue = new Option<double>("--overdue-after") { Description = "The dashboard flags a device overdue when its last backup is older than this", DefaultValueFactory = _ => HostReports.DefaultOverdueAfter.TotalHours, HelpName = "HOURS" };
        var command = new Command("run", "Run the host service in the foreground until Ctrl-C: network sessions, serial ports, USB interfaces, the web dashboard") { data, listen, name, autoApprove, allowReclaim, serial, usb, keepalive, http, overdue, verbose };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            using var loggers = LoggerFactory.Create(b => b
                .SetMinimumLevel(result.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information)
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            var options = new HostOptions
            {
                DataFolder = result.GetValue(data)!,
                Listen = LinkAddress.Parse(result.GetValue(listen)!),
                Name = result.GetValue(name),
                AutoApprove = result.GetValue(autoApprove),
                AllowReclaim = result.GetValue(allowReclaim),
                SerialPorts = [.. (result.GetValue(serial) ?? []).Select(SerialPortSetting.Parse)],
                UsbInterfaces = result.GetValue(usb) ?? [],
                Channel = ChannelOptions.ForIdleTimeout(result.GetValue(keepalive)),
            };
            var dashboardAddress = DashboardOptions.ParseAddress(result.GetValue(http)!);
            var overdueHours = result.GetValue(overdue);
            if (overdueHours is <= 0 or > 24 * 366)
            {
                throw new ArgumentException($"--overdue-after {overdueHours}: give 0 < HOURS <= {24 * 366}");
            }

            await using var service = HostService.Open(options, loggers);
            service.Start();
            Console.Out.WriteLine($"cradle host {service.Name}: data in {service.Store.Folder}");
            Console.Out.WriteLine($"listening on {service.BoundAddress}");
            await using var dashboard = dashboardAddress is null ? null
                : await DashboardServer.StartAsync(service, new DashboardOptions { Address = dashboardAddress, OverdueAfter = TimeSpan.FromHours(overdueHours) }, loggers, cancellationToken).ConfigureAwait(false);
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
                Console.Out.WriteLine("reclaim allowed: a cold-booted device that proves its recovery key takes its old record back (P9)");
            }

            foreach (var port in options.SerialPorts)
            {
                Console.Out.WriteLine($"watching serial port {port}");
            }

            foreach (var nic in options.UsbInterfaces)
            {
                Console.Out.WriteLine($"watching USB interface {nic}");
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

    private static Command Devices()
    {
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var command = new Command("devices", "Every device this host has a partnership with (P4)") { data, json };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            var rows = HostReports.Devices(store, HostReports.DefaultOverdueAfter, DateTimeOffset.UtcNow);
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListDeviceRow);
                return Task.FromResult(ExitCodes.Ok);
            }

            if (rows.Count == 0)
            {
                Console.Out.WriteLine("no partnerships yet");
                return Task.FromResult(ExitCodes.Ok);
            }

            var table = new Table().AddColumns("device", "number", "created", "last backup", "link", "snapshots", "size");
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.Name), r.NumberHex, Format.Time(r.Created), Format.Time(r.LastBackup) + (r.Overdue ? " (overdue)" : ""), r.LastLink ?? "-", r.Snapshots.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Bytes(r.Bytes));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Snapshots()
    {
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var device = new Argument<string?>("DEVICE") { Description = "Only this device's snapshots", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("snapshots", "Snapshots, oldest first") { data, json, device };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            var name = result.GetValue(device);
            var rows = HostReports.Snapshots(store, name is null ? null : DeviceName.Parse(name));
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListSnapshotRow);
                return Task.FromResult(ExitCodes.Ok);
            }

            var table = new Table().AddColumns("id", "device", "time", "files", "size", "link", "note");
            foreach (var r in rows)
            {
                table.AddRow(r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(r.Device), Format.Time(r.Time), r.Files.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Bytes(r.Bytes), r.Link,
                    r.Suspect ? "most files vanished since the previous snapshot" : "");
            }

            AnsiConsole.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Restore()
    {
        var data = CommonOptions.Data();
        var device = new Argument<string>("DEVICE") { Description = "The device whose files to restore" };
        var snapshot = new Option<long?>("--snapshot") { Description = "The snapshot id (default: the device's latest)", HelpName = "ID" };
        var to = new Option<string>("--to") { Description = "The folder to restore into (created if missing)", Required = true, HelpName = "DIR" };
        var command = new Command("restore", "Restore a snapshot's files, folders and times into a folder on the host; every chunk is verified") { data, device, snapshot, to };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            using var storeLock = await store.LockAsync(exclusive: false, TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
            using var reader = store.OpenReader();
            var info = FindSnapshot(reader.Catalog, DeviceName.Parse(result.GetValue(device)), result.GetValue(snapshot));
            var target = result.GetValue(to)!;
            var restored = await ProgressDisplay.RestoreAsync(reader, info, target, cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"restored snapshot {info.Id} of {info.Device}: {restored.Files} files, {restored.Folders} folders, {Format.Bytes(restored.Bytes)} into {Path.GetFullPath(target)}; every chunk verified");
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static SnapshotInfo FindSnapshot(Catalog catalog, DeviceName device, long? id)
    {
        if (id is { } wanted)
        {
            var found = catalog.GetSnapshot(wanted) ?? throw new ArgumentException($"there is no snapshot {wanted}");
            if (!string.Equals(found.Device, device.Value, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"snapshot {wanted} belongs to {found.Device}, not {device}");
            }

            return found;
        }

        var list = catalog.ListSnapshots(device.Key);
        return list.Count > 0 ? list[^1] : throw new ArgumentException($"this host has no snapshot of {device}");
    }

    private static Command Forget()
    {
        var data = CommonOptions.Data();
        var device = new Argument<string>("DEVICE") { Description = "The device to forget" };
        var keep = new Option<bool>("--keep-backups") { Description = "Release the name but keep its snapshots: restorable to a folder (cradle host restore) or to a device (cradle host allow-restore)" };
        var command = new Command("forget", "Remove a device's partnership (releasing its name) and its snapshots from this host (P4, P9); the device must partner again") { data, device, keep };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            var name = DeviceName.Parse(result.GetValue(device));
            var forgot = HostReports.Forget(store, name, result.GetValue(keep));
            Console.Out.WriteLine(result.GetValue(keep)
                ? $"forgot {name}: partnership removed, the name is free to partner again (P5); {forgot.SnapshotsKept} snapshots kept, restorable with 'cradle host restore {name} --to DIR' or onto a device with 'cradle host allow-restore {name} --to NAME'"
                : $"forgot {name}: partnership {(forgot.PartnershipRemoved ? "removed" : "was already gone")}, {forgot.SnapshotsRemoved} snapshots removed (cradle host prune frees the data no other snapshot needs)");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command AllowRestore()
    {
        var data = CommonOptions.Data();
        var device = new Argument<string>("DEVICE") { Description = "The device whose snapshots may be restored" };
        var to = new Option<string>("--to") { Description = "The device name allowed to restore them (a guest, a cold-booted device, a replacement)", Required = true, HelpName = "NAME" };
        var expires = new Option<double>("--expires") { Description = "Minutes the permission lasts; it is used up by the first restore", DefaultValueFactory = _ => 60, HelpName = "MINUTES" };
        var command = new Command("allow-restore", "Allow a device to restore another's (or its own, after a cold boot) files onto itself, once, until it expires") { data, device, to, expires };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var minutes = result.GetValue(expires);
            if (minutes is <= 0 or > 7 * 24 * 60)
            {
                throw new ArgumentException($"--expires {minutes}: give 0 < MINUTES <= {7 * 24 * 60}");
            }

            var store = ChunkStore.Open(result.GetValue(data)!);
            var source = DeviceName.Parse(result.GetValue(device));
            var target = DeviceName.Parse(result.GetValue(to)!);
            using var catalog = store.OpenCatalog();
            var snapshots = catalog.ListSnapshots(source.Key);
            if (snapshots.Count == 0)
            {
                throw new ArgumentException($"this host keeps no snapshot of {source} (cradle host snapshots lists what it keeps)");
            }

            using var registry = PartnershipRegistry.Open(store.DatabasePath);
            var grant = registry.AllowRestore(source, target, TimeSpan.FromMinutes(minutes));
            var newest = snapshots[^1];
            Console.Out.WriteLine($"allowed {grant.To} to restore {grant.Source}'s files once, until {Format.Time(grant.Expires)} ({snapshots.Count} snapshots kept, newest {newest.Id} of {Format.Time(newest.Time)})");
            Console.Out.WriteLine($"  on the device: cradle device restore --host THIS-HOST{(source.Equals(target) ? "" : $" --from {grant.Source}")} [--snapshot ID]");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command HttpTokenCommand()
    {
        var data = CommonOptions.Data();
        var rotate = new Option<bool>("--rotate") { Description = "Replace the token with a new one; the old one stops working at once, also in a running host" };
        var command = new Command("http-token", "Print the dashboard's access token (needed when it listens beyond loopback), making it when there is none") { data, rotate };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            if (result.GetValue(rotate))
            {
                HttpToken.Rotate(store.Folder);
            }

            Console.Out.WriteLine(HttpToken.LoadOrCreate(store.Folder, out _).Reveal());
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Pending()
    {
        var data = CommonOptions.Data();
        var json = CommonOptions.Json();
        var command = new Command("pending", "Partnerships waiting for the operator's approval") { data, json };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            var rows = HostReports.Pending(store);
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
                foreach (var r in rows)
                {
                    Console.Out.WriteLine($"{r.Code}  {r.Device}  number {new PartnershipNumber(r.Number)}  from {r.Address}  since {Format.Time(r.Created)}");
                }
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Decide(string verb, PendingState decision, string description)
    {
        var data = CommonOptions.Data();
        var code = new Argument<string>("CODE") { Description = "The six-digit code both screens show" };
        var command = new Command(verb, description) { data, code };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var store = ChunkStore.Open(result.GetValue(data)!);
            using var registry = PartnershipRegistry.Open(store.DatabasePath);
            var value = result.GetValue(code)!.Trim();
            if (!registry.Decide(value, decision))
            {
                throw new ArgumentException($"no partnership waits under code {value} (see cradle host pending)");
            }

            Console.Out.WriteLine($"{(decision == PendingState.Approved ? "approved" : "denied")} {value}");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
