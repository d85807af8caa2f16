using System.CommandLine;
using Cradle.Cli;
using Cradle.Device;

// Ctrl-C and SIGTERM cancel the running command; a host then says goodbye to its sessions and
// closes the store. Give that time: System.CommandLine's default of 2 s would cut it short on a
// busy machine and exit 130 with the work half closed.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
#if !CRADLE_DEVICE_ONLY
// A table written to a pipe or a file keeps each row on one line (Spectre would wrap at 80
// columns), so that grep and a journal see whole rows. (cradle-device's tables never wrap.)
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 400;
}
#endif

// Messages and help name the device's commands as this executable's user types them.
DeviceCommandLine.Use(string.Join(' ', [CradleCommand.ExecutableName, .. CradleCommand.DeviceVerb]));
var parse = CradleCommand.Build().Parse(args);
// Errors of a --json command are JSON too, even when the command line itself is wrong.
CliErrors.Json = args.Contains("--json", StringComparer.Ordinal);
if (parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    return UsageErrors.Report(parse);
}

return await parse.InvokeAsync(invocation).ConfigureAwait(false);
