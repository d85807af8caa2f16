using System.CommandLine;
using Cradle.Device;
using Cradle.Protocol;

namespace Cradle.Cli;

/// <summary><c>cradle device end-partnership HOST</c>: the way out when a pinned host was really replaced.</summary>
internal static class DevicePartnershipCommands
{
    public static Command EndPartnership()
    {
        var state = CommonOptions.State();
        var host = new Argument<string>("HOST") { Description = $"The host's name, its id, or the address the partnership was made at ({DeviceCommandLine.Of("partnerships")} lists them)" };
        var yes = new Option<bool>("--yes") { Description = "End it without asking" };
        var command = new Command("end-partnership", "End this device's partnership with one host (its number and secret are deleted here; the host keeps its record and backups). For a host that was reinstalled or replaced: the device then accepts the new one as a new host") { state, host, yes };
        command.SetAction(result => ExitCodes.RunAsync(() =>
        {
            var deviceState = new DeviceState(result.GetValue(state)!);
            var name = result.GetValue(host)!;
            var slot = DeviceState.FindPartnership(deviceState.LoadPartnerships(), name);
            if (slot is null)
            {
                throw new ArgumentException($"this device holds no partnership with '{name}' ({DeviceCommandLine.Of("partnerships")} lists them)");
            }

            var what = $"the partnership with {slot.HostName} (number {new PartnershipNumber(slot.Number)}, at {slot.Address})";
            if (!result.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                {
                    Console.Error.WriteLine($"error: this ends {what}; reconnecting to that host later needs a rename or its operator's 'cradle host forget'. Nothing changed: run again with --yes to end it");
                    return Task.FromResult(ExitCodes.Usage);
                }

                Console.Error.Write($"end {what}? Reconnecting to that host later needs a rename or its operator's 'cradle host forget'. [y/N] ");
                if (Console.ReadLine()?.Trim() is not ("y" or "Y" or "yes"))
                {
                    Console.Error.WriteLine("nothing changed");
                    return Task.FromResult(ExitCodes.Usage);
                }
            }

            var ended = deviceState.EndPartnership(name) ?? throw new ArgumentException($"this device holds no partnership with '{name}'");
            Console.Out.WriteLine($"ended the partnership with {ended.HostName} (number {new PartnershipNumber(ended.Number)}); the host keeps its record and backups");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
