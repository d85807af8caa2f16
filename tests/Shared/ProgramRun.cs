using System.Diagnostics;

namespace Cradle.Tests;

/// <summary>Runs a system program a test sets up with (ip, tc): it succeeds, or the exception carries its stderr.</summary>
public static class ProgramRun
{
    public static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {error}");
        }
    }
}
