using Cradle.Fuzz;
using Cradle.Fuzz.Tests;
using SharpFuzz;

// `dotnet Cradle.Fuzz.Afl.dll TARGET` under afl-fuzz: every input AFL writes goes through the
// target's decoder with the property tests' check (DecoderCheck.Holds). A documented refusal
// returns; a foreign exception or an allocation over the bound escapes, and SharpFuzz reports
// it to AFL as a crash. Out of process, so a hang (killed by AFL's timeout) or a stack
// overflow costs a restart of the child rather than the fork server. The target is made inside
// the action: instrumented code may run only once SharpFuzz has set up the coverage map.
if (args.Length != 1 || !Targets.Names.Contains(args[0], StringComparer.Ordinal))
{
    await Console.Error.WriteLineAsync($"usage: Cradle.Fuzz.Afl TARGET (one of {string.Join(", ", Targets.Names)}); the input is read from stdin").ConfigureAwait(false);
    return 2;
}

var scratch = Path.Combine(Path.GetTempPath(), "cradle-afl", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
try
{
    DecoderTarget? target = null;
    Fuzzer.OutOfProcess.Run(stream =>
    {
        target ??= Targets.Create(args[0], scratch);
        using var input = new MemoryStream();
        stream.CopyTo(input);
        DecoderCheck.Holds(target, input.ToArray());
    });
}
finally
{
    Directory.Delete(scratch, recursive: true);
}

return 0;
