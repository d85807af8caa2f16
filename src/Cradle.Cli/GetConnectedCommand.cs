using System.CommandLine;
using Cradle.Links.Serial;

namespace Cradle.Cli;

/// <summary>
/// <c>cradle host get-connected</c>: the Get Connected wizard (<see cref="Host.GetConnected"/>)
/// on the terminal.
/// </summary>
internal static class GetConnectedCommand
{
    public static Command Build()
    {
        var ports = new Option<string[]>("--port") { Description = "A serial port to scan besides the ones the system lists (repeat for more)", HelpName = "PATH" };
        var baud = new Option<int?>("--baud") { Description = "Try only this rate (default: 115200, 57600, 38400, 19200, 9600)", HelpName = "N" };
        // Not --listen: that is host run's ADDR:PORT, and one word should not mean two things.
        var listen = new Option<double>("--wait") { Description = "Seconds to wait for an offer at each rate", DefaultValueFactory = _ => HostServiceDwell, HelpName = "SECONDS" };
        var json = CommonOptions.Json();
        var command = new Command("get-connected", "Scan serial ports for a device running 'cradle device connect --serial' and report the port and rate it offers on; exit 0 when a device was found, 1 when none")
        {
            ports, baud, listen, json,
        };
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var seconds = result.GetValue(listen);
            if (seconds is <= 0 or > 60)
            {
                throw new ArgumentException($"--wait {seconds}: give 0 < SECONDS <= 60");
            }

            IReadOnlyList<int> rates = result.GetValue(baud) is { } only ? [only] : SerialLink.CommonBaudRates;
            var scan = SerialLink.PortsToScan(result.GetValue(ports) ?? []);
            var count = scan.Count;
            if (count == 0)
            {
                throw new ArgumentException("no serial ports: the system lists none; name one with --port PATH");
            }

            if (!result.GetValue(json))
            {
                Console.Error.WriteLine($"scanning {Format.Count(count, "port")} at {string.Join(", ", rates)} baud, {seconds:0.#} s each");
            }

            var rows = await Host.GetConnected.ScanAsync(scan, rates, TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                CliJson.Print(rows, CliJson.Default.ListPortRow);
            }
            else
            {
                foreach (var row in rows)
                {
                    Console.Out.WriteLine(row.Result switch
                    {
                        "device" => $"{row.Port}: device {row.Device} offering a session at {row.Baud} baud",
                        "silent" => $"{row.Port}: nothing heard at {string.Join("/", row.RatesTried)} baud",
                        "noise" => $"{row.Port}: bytes but no Cradle device ({row.Detail}); a device at another rate, or something else on the line",
                        _ => $"{row.Port}: unavailable ({row.Detail})",
                    });
                }
            }

            return rows.Any(r => r.Result == "device") ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    private static double HostServiceDwell => Host.HostService.ScanDwell.TotalSeconds;
}
