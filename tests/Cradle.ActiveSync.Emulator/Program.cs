using System.Text.Json;
using Cradle.ActiveSync.Emulator;

// The emulator as a process (tests run it inside a network namespace, at the far end of a veth).
// One argument: --config FILE (EmulatorOptions as JSON). It prints one JSON line when it is ready,
// then reads commands from stdin, one per line, answering each with one line:
//   counters | events | cold-boot | vanish | return | disconnect | connect | faults {json} | quit
// Closing stdin or SIGTERM stops it.
if (args is not ["--config", var configFile])
{
    Console.Error.WriteLine("usage: Cradle.ActiveSync.Emulator --config FILE.json");
    return 2;
}

var options = JsonSerializer.Deserialize(File.ReadAllText(configFile), EmulatorJson.Default.EmulatorOptions)
    ?? throw new InvalidDataException($"{configFile} holds no emulator options");
await using var device = new EmulatedDevice(options);
device.Start();
// Not disposed: a SIGTERM may still arrive while the device shuts down.
var stopping = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stopping.Cancel();
});
Console.Out.WriteLine($"{{\"ready\":true,\"trigger\":\"{device.TriggerEndPoint}\"}}");
Console.Out.Flush();

while (!stopping.IsCancellationRequested)
{
    string? line;
    try
    {
        line = await Console.In.ReadLineAsync(stopping.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }

    if (line is null || line == "quit")
    {
        break;
    }

    var (command, argument) = line.IndexOf(' ', StringComparison.Ordinal) is var space and > 0 ? (line[..space], line[(space + 1)..]) : (line, "");
    var answer = command switch
    {
        "counters" => JsonSerializer.Serialize(new Dictionary<string, long>(device.Counters.Snapshot()), EmulatorJson.Default.DictionaryStringInt64),
        "events" => JsonSerializer.Serialize(device.Counters.Events.ToArray(), EmulatorJson.Default.StringArray),
        "cold-boot" => $"{{\"lostSlot\":{device.ColdBoot()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}}}",
        "vanish" => Do(device.Vanish),
        "return" => Do(device.Return),
        "disconnect" => Do(device.Disconnect),
        "connect" => Do(() => _ = device.ConnectAsync()),
        "faults" => Do(() => ApplyFaults(device.Faults, JsonSerializer.Deserialize(argument, EmulatorJson.Default.EmulatorFaults)!)),
        _ => "{\"error\":\"unknown command\"}",
    };
    Console.Out.WriteLine(answer);
    Console.Out.Flush();
}

return 0;

static string Do(Action action)
{
    action();
    return "{\"ok\":true}";
}

static void ApplyFaults(EmulatorFaults target, EmulatorFaults source)
{
    target.ReplyDelayMs = source.ReplyDelayMs;
    target.ReplyDelayMsByCall = source.ReplyDelayMsByCall;
    target.DelayIsLatency = source.DelayIsLatency;
    target.ShortReadMax = source.ShortReadMax;
    target.VanishAfterReadBytes = source.VanishAfterReadBytes;
    target.OversizedReplyTo = source.OversizedReplyTo;
    target.NeverReplyTo = source.NeverReplyTo;
    target.LyingCountIn = source.LyingCountIn;
    target.HostileNames = source.HostileNames;
    target.NamesWithoutNul = source.NamesWithoutNul;
    target.IgnorePings = source.IgnorePings;
}
