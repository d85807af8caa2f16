using System.CommandLine;
using Cradle.Cli;

// Ctrl-C and SIGTERM cancel the running command; a host then says goodbye to its sessions and
// closes the store. Give that time: System.CommandLine's default of 2 s would cut it short on a
// busy machine and exit 130 with the work half closed.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
return await CradleCommand.Build().Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
