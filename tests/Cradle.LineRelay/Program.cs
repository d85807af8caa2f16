using System.Runtime.InteropServices;
using Cradle.LineRelay;

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(LineRelayArguments.Usage);
    return 0;
}

LineRelayOptions options;
try
{
    options = LineRelayArguments.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Cradle.LineRelay: {e.Message}");
    Console.Error.WriteLine(LineRelayArguments.Usage);
    return 2;
}

using var relay = SerialLineRelay.Start(options);
var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);

Console.Out.WriteLine($"device={relay.DevicePort} host={relay.HostPort}");
Console.Out.Flush();

var input = ReadUntilEndOfInputAsync();
if (await Task.WhenAny(stop.Task, input) == input && input.Exception is { } failure)
{
    Console.Error.WriteLine($"Cradle.LineRelay: stdin failed, stopping: {failure.InnerException?.Message}");
}

// Stopped first, so the counters are final.
relay.Dispose();
try
{
    var stats = relay.Stats;
    Console.Error.WriteLine($"device->host: {stats.DeviceToHost}");
    Console.Error.WriteLine($"host->device: {stats.HostToDevice}");
    return 0;
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"Cradle.LineRelay: {e.Message}");
    return 1;
}

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}

// The parent holds the relay's life by its stdin: closing it (or dying) ends the relay.
static async Task ReadUntilEndOfInputAsync()
{
    await using var input = Console.OpenStandardInput();
    var buffer = new byte[256];
    while (await input.ReadAsync(buffer) > 0)
    {
    }
}
