using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Cradle.ActiveSync.Tests;

/// <summary>The real <c>cradle</c> executable: <c>cradle host run</c> inside the host's network namespace, and one-shot commands beside it.</summary>
internal sealed class CradleHostProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private CradleHostProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Executable =>
        Environment.GetEnvironmentVariable("CRADLE_EXE") is { Length: > 0 } overridden
            ? overridden
            : typeof(CradleHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CradleExecutable").Value!;

    /// <summary>Everything the host wrote (its log goes to stderr), so far.</summary>
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>Starts <c>cradle host run ARGS</c> in <paramref name="networkNamespace"/>.</summary>
    public static CradleHostProcess Run(string networkNamespace, params string[] args) => RunWith(networkNamespace, null, args);

    /// <summary>Starts <c>cradle host run ARGS</c> in <paramref name="networkNamespace"/> with one more environment variable.</summary>
    public static CradleHostProcess RunWith(string networkNamespace, (string Name, string Value)? variable, params string[] args)
    {
        var start = new ProcessStartInfo("ip", ["netns", "exec", networkNamespace, Executable, "host", "run", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (variable is { } v)
        {
            start.Environment[v.Name] = v.Value;
        }

        return new CradleHostProcess(Process.Start(start)!);
    }

    /// <summary>Waits until the host's output holds <paramref name="text"/> <paramref name="times"/> times.</summary>
    public async Task WaitForAsync(string text, int times = 1)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (Count(text) < times)
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the host did not say \"{text}\" {times} times (exited: {_process.HasExited}); it said:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    public int Count(string text)
    {
        var output = Output;
        var count = 0;
        for (var at = output.IndexOf(text, StringComparison.Ordinal); at >= 0; at = output.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Runs a one-shot <c>cradle ARGS</c> here (no network needed) and returns its exit code and output.</summary>
    public static Task<(int Exit, string Output)> CommandAsync(params string[] args) => RunAsync(Executable, args, null);

    /// <summary>Runs a one-shot <c>cradle ARGS</c> inside <paramref name="networkNamespace"/> (where the host's API listens on loopback).</summary>
    public static Task<(int Exit, string Output)> CommandInNamespaceAsync(string networkNamespace, params string[] args) =>
        RunAsync("ip", ["netns", "exec", networkNamespace, Executable, .. args], null);

    /// <summary>Runs <c>cradle ARGS</c> with <paramref name="input"/> on its standard input (closed after it).</summary>
    public static Task<(int Exit, string Output)> CommandWithInputAsync(string input, params string[] args) => RunAsync(Executable, args, input);

    /// <summary>Runs <c>cradle ARGS</c> with one more environment variable.</summary>
    public static Task<(int Exit, string Output)> CommandWithAsync((string Name, string Value) variable, params string[] args) => RunAsync(Executable, args, null, variable);

    /// <summary>Runs <c>cradle ARGS</c> as the unprivileged user nobody (setpriv: no capabilities).</summary>
    public static Task<(int Exit, string Output)> CommandAsNobodyAsync(params string[] args) =>
        RunAsync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", Executable, .. args], null);

    private static async Task<(int Exit, string Output)> RunAsync(string program, string[] args, string? input, (string Name, string Value)? variable = null)
    {
        var start = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (variable is { } v)
        {
            start.Environment[v.Name] = v.Value;
        }

        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteLineAsync(input);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Patience);
        return (process.ExitCode, await stdout + await stderr);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
