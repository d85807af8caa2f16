using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Cradle.EndToEnd.Tests;

/// <summary>The real <c>cradle</c> executable, run as a child process (CRADLE_EXE overrides which one, e.g. a native AOT build).</summary>
public sealed partial class CradleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _dashboard = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CradleProcess(Process process) => _process = process;

    /// <summary>The device's consent to a new host, as a variable (<c>--accept-new-host</c>).</summary>
    public const string AcceptNewHostVariable = "CRADLE_DEVICE__ACCEPTNEWHOST";

    /// <summary>The environment of a device that decides for itself whether to trust a new host (no consent given in advance).</summary>
    public static IReadOnlyDictionary<string, string> AskingDevice { get; } = new Dictionary<string, string> { [AcceptNewHostVariable] = "" };

    public static string Executable =>
        Environment.GetEnvironmentVariable("CRADLE_EXE") is { Length: > 0 } overridden
            ? overridden
            : typeof(CradleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CradleExecutable").Value!;

    public int Id => _process.Id;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts cradle with these arguments, reading its output as it comes.</summary>
    public static CradleProcess Start(params string[] args) => StartIn(null, args);

    /// <summary>Starts cradle inside a network namespace (ip netns exec replaces itself with cradle: same process id).</summary>
    public static CradleProcess StartIn(string? netns, params string[] args) => StartCore(netns is null ? null : ["ip", "netns", "exec", netns], null, args);

    /// <summary>
    /// Runs cradle to the end as the unprivileged user nobody (uid and gid 65534, no other
    /// groups; setpriv replaces itself with cradle): what root may read, it may not.
    /// </summary>
    public static async Task<Result> RunAsNobodyAsync(params string[] args)
    {
        await using var process = StartCore(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"], new Dictionary<string, string> { ["HOME"] = "/nonexistent" }, args);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        return new Result(code, process.Stdout, process.Stderr);
    }

    /// <summary>Starts cradle with these environment variables set (CRADLE_HOST__… settings).</summary>
    public static CradleProcess StartWith(IReadOnlyDictionary<string, string> environment, params string[] args) => StartCore(null, environment, args);

    /// <summary>Starts cradle with stdin, stdout and stderr on a pseudo-terminal (util-linux's script), so it sees a terminal; what it writes comes back on stdout.</summary>
    public static CradleProcess StartOnTerminal(params string[] args)
    {
        var line = string.Join(' ', new[] { Executable }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        return StartCore(["script", "--quiet", "--return", "--command", line, "/dev/null"], new Dictionary<string, string> { ["COLUMNS"] = "200", ["TERM"] = "xterm" }, [], runExecutable: false);
    }

    /// <summary>Writes a line to the process's standard input (a terminal's answer, under <see cref="StartOnTerminal"/>).</summary>
    public void Answer(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>
    /// Runs another command line to the end with cradle's test environment (the device's consent
    /// to the test host): a device agent of another build, under an emulator, say.
    /// </summary>
    public static async Task<Result> RunCommandAsync(string[] command, params string[] args)
    {
        await using var process = StartCore(command, null, args, runExecutable: false);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        return new Result(code, process.Stdout, process.Stderr);
    }

    /// <summary>Runs cradle to the end with these environment variables set.</summary>
    public static async Task<Result> RunWithAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        await using var process = StartWith(environment, args);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        return new Result(code, process.Stdout, process.Stderr);
    }

    private static CradleProcess StartCore(string[]? prefix, IReadOnlyDictionary<string, string>? environment, string[] args, bool runExecutable = true)
    {
        var info = new ProcessStartInfo(prefix is null ? Executable : prefix[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (prefix is not null)
        {
            foreach (var a in prefix.Skip(1).Concat(runExecutable ? [Executable] : []))
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // Test devices trust the test's own host, as test hosts run --auto-approve (a lab setup);
        // a test of the device's consent sets the variable to "" (removed) or to a code.
        // (CRADLE_EXE_BEFORE_CONSENT=1: the executable predates the setting and would refuse it as unknown.)
        if (Environment.GetEnvironmentVariable("CRADLE_EXE_BEFORE_CONSENT") != "1")
        {
            info.Environment[AcceptNewHostVariable] = "any";
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            if (value.Length == 0)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var wrapper = new CradleProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (wrapper._stdout)
            {
                wrapper._stdout.AppendLine(e.Data);
            }

            var match = ListeningLine().Match(e.Data);
            if (match.Success)
            {
                wrapper._listening.TrySetResult(match.Groups[1].Value);
            }

            var dashboard = DashboardLine().Match(e.Data);
            if (dashboard.Success)
            {
                wrapper._dashboard.TrySetResult(dashboard.Groups[1].Value);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (wrapper._stderr)
                {
                    wrapper._stderr.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs cradle to the end and returns its exit code and output.</summary>
    public static async Task<Result> RunAsync(params string[] args)
    {
        await using var process = Start(args);
        var code = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        return new Result(code, process.Stdout, process.Stderr);
    }

    /// <summary>Waits for the host's "listening on ADDR:PORT" line and returns ADDR:PORT.</summary>
    public async Task<string> ListeningAddressAsync()
    {
        var finished = await Task.WhenAny(_listening.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (finished != _listening.Task)
        {
            throw new InvalidOperationException($"cradle did not print 'listening on'.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return await _listening.Task;
    }

    /// <summary>Waits for the host's "dashboard on URL" line and returns the URL.</summary>
    public async Task<Uri> DashboardAddressAsync()
    {
        var finished = await Task.WhenAny(_dashboard.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (finished != _dashboard.Task)
        {
            throw new InvalidOperationException($"cradle did not print 'dashboard on'.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return new Uri(await _dashboard.Task);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"cradle did not exit within {timeout}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        // The exit event can come before the last output lines: wait for the readers to drain.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGKILL: the process gets no chance to clean up (a power cut, as the store sees it).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    /// <summary>
    /// Sends SIGINT (what Ctrl-C sends). When this test run itself was started as a background
    /// job without job control, SIGINT is ignored and every child inherits that (POSIX), so the
    /// host could never see it: then SIGTERM, which cradle handles the same way, stands in.
    /// </summary>
    public void Interrupt() => Signal(SigIntIgnoredHere() ? "TERM" : "INT");

    private static bool SigIntIgnoredHere()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }

    /// <summary>Sends SIGSTOP: the process freezes, as a device does when it suspends.</summary>
    public void Suspend() => Signal("STOP");

    /// <summary>Sends SIGCONT: the frozen process resumes.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits until the output (stdout and stderr) contains <paramref name="text"/>; false after the timeout.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Stdout.Contains(text, StringComparison.Ordinal) || Stderr.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^listening on (\S+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"^dashboard on (\S+)")]
    private static partial Regex DashboardLine();

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }
}
