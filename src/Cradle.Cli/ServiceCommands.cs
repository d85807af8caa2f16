using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Device;

namespace Cradle.Cli;

/// <summary><c>cradle host install-service</c> and <c>cradle device install-service</c>: systemd units that run Cradle unattended.</summary>
internal static class ServiceCommands
{
    /// <summary>The rolling log file a service writes, inside its folder.</summary>
    public const string ServiceLogFile = "logs/cradle.log";

#if !CRADLE_DEVICE_ONLY
    public static Command Host()
    {
        var run = new HostRunOptions();
        var print = Print();
        var path = UnitPath("cradle-host");
        var user = new Option<string?>("--user") { Description = $"Run the host as this unprivileged user, who must own the folder; never root. Without it systemd makes a user for the service (DynamicUser) and the folder is {HostServiceUnit.StateFolder}", HelpName = "USER" };
        var command = new Command("install-service", """
            Write a systemd unit that runs 'cradle host run' on this folder at boot as an unprivileged
            user (never root), restarts it if it fails, and logs to the console (the journal) and to
            logs/cradle.log in the folder. The service may write its folder and nothing else of the
            system. Other settings come from the folder's cradle.json (cradle host config shows
            them); CRADLE_HOST__ variables set now are written into the unit.
            """) { run.Data, print, path, user };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var settings = run.Load(result);
            var options = HostRunOptions.ToHostOptions(settings);
            var plan = HostServiceUnit.Plan(settings, result.GetValue(user), options.Listen.Port);
            foreach (var warning in plan.Warnings)
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            var unit = new SystemdUnit()
                .Comment("Written by 'cradle host install-service'. Settings: the folder's cradle.json (cradle host config shows them).")
                .Add("Unit", "Description", "Cradle host: keeps the backups of handheld devices")
                .Add("Unit", "After", "network-online.target")
                .Add("Unit", "Wants", "network-online.target")
                .Add("Service", "Type", "exec")
                .Add("Service", "ExecStart", SystemdUnit.CommandLine([.. SystemdUnit.ThisExecutable(), "host", "run", "--data", plan.Folder, "--log-file", ServiceLogFile]));
            HostServiceUnit.Confine(unit, plan, options, settings.Text("packs"));
            Finish(unit, settings, user: null, restart: "on-failure");
            var printOnly = result.GetValue(print);
            if (!printOnly)
            {
                HostServiceUnit.PrepareFolder(plan);
            }

            return Task.FromResult(Write(unit, result.GetValue(path)!, printOnly));
        }));
        return command;
    }
#endif

    public static Command Device()
    {
        var connect = new DeviceConnectOptions();
        var print = Print();
        var path = UnitPath("cradle-device");
        var user = User();
        var command = new Command("install-service", """
            Write a systemd unit for the device agent: it waits for the USB cable (--usb IFACE) or
            offers a session on the serial port (--serial PORT) until the host's Get Connected answers,
            backs up by itself, keeps backing up changes while connected, and starts again after the
            cable is pulled or the host goes away. The link comes from these flags or the state
            folder's cradle.json; logs go to the journal and to logs/cradle.log in the state folder.
            """) { connect.State, print, path, user };
        foreach (var option in connect.Route.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var settings = connect.Load(result);
            var route = DeviceConnectOptions.ToRoute(settings);
            List<string> exec = [.. SystemdUnit.ThisExecutable(), .. CradleCommand.DeviceVerb, "connect", "--state", settings.Folder, "--log-file", ServiceLogFile];
            foreach (var option in connect.Route.All)
            {
                if (Setting.FromOption(result, option) is { } given)
                {
                    exec.AddRange([given.Flag, .. given.Values]);
                }
            }

            var unit = new SystemdUnit()
                .Comment($"Written by '{DeviceCommandLine.Of("install-service")}'. Settings: the state folder's cradle.json ({DeviceCommandLine.Of("config")} shows them).")
                .Add("Unit", "Description", $"Cradle device agent: backs up this device's data files over {route}")
                .Add("Unit", "After", "network.target")
                .Add("Service", "Type", "exec")
                .Add("Service", "ExecStart", SystemdUnit.CommandLine(exec));
            Finish(unit, settings, result.GetValue(user), restart: "always");
            return Task.FromResult(Write(unit, result.GetValue(path)!, result.GetValue(print)));
        }));
        return command;
    }

    private static void Finish(SystemdUnit unit, EffectiveSettings settings, string? user, string restart)
    {
        // Settings given by environment variables now would be lost under systemd: carry them over.
        foreach (var value in settings.Values.Where(v => v.Source == v.Environment))
        {
            unit.Add("Service", "Environment", SystemdUnit.Word($"{value.Environment}={string.Join(',', value.Values)}"));
        }

        if (user is not null)
        {
            unit.Add("Service", "User", user);
            unit.Add("Service", "SupplementaryGroups", "dialout");
        }

        unit.Add("Service", "Restart", restart)
            .Add("Service", "RestartSec", "10")
            // Bad settings (2), a refused partnership (3) and a damaged or newer store (5) do not heal by restarting.
            .Add("Service", "RestartPreventExitStatus", "2 3 5")
            // SIGTERM: cradle ends its sessions cleanly and closes the store; give it the time it takes.
            .Add("Service", "TimeoutStopSec", "45")
            .Add("Install", "WantedBy", "multi-user.target");
    }

    private static int Write(SystemdUnit unit, string path, bool print)
    {
        if (print)
        {
            Console.Out.Write(unit.ToString());
            return ExitCodes.Ok;
        }

        var full = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, unit.ToString());
        }
        catch (UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot write {full}: run as root (sudo), or give --unit-path, or --print to see the unit");
            return ExitCodes.Failed;
        }

        var unitName = Path.GetFileName(full);
        Console.Out.WriteLine($"wrote {full}");
        Console.Out.WriteLine($"  start it now and at every boot: systemctl daemon-reload && systemctl enable --now {unitName}");
        Console.Out.WriteLine($"  its log: journalctl -u {unitName} (and logs/cradle.log in its folder)");
        return ExitCodes.Ok;
    }

    private static Option<bool> Print() => new("--print") { Description = "Print the unit instead of writing it" };

    private static Option<string> UnitPath(string name) => new("--unit-path")
    {
        Description = "Where to write the unit",
        DefaultValueFactory = _ => $"/etc/systemd/system/{name}.service",
        HelpName = "PATH",
    };

    private static Option<string?> User() => new("--user") { Description = "Run the service as this user (it must own the folder); default root", HelpName = "USER" };
}
