using Cradle.Device;
#if !CRADLE_DEVICE_ONLY
using Spectre.Console;
#endif

namespace Cradle.Cli;

/// <summary>
/// Live progress: a Spectre.Console progress bar on an interactive terminal (shown from the
/// first progress report on: no empty bar while the device waits for an approval); on a pipe, in
/// a script or a service's journal, a line on stderr when a phase starts and every few seconds
/// while it runs (files, bytes, rate), so stdout stays clean for results. cradle-device carries no
/// Spectre.Console (its size and start-up, docs/BENCHMARKS.md): it writes the lines on a terminal too.
/// </summary>
internal static partial class ProgressDisplay
{
#if CRADLE_DEVICE_ONLY
    public static bool Interactive => false;
#else
    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
#endif

    /// <summary>Runs device work with a progress bar fed by the session's observer.</summary>
    public static async Task<T> DeviceAsync<T>(string title, Func<ISessionObserver, Task<T>> work)
    {
        if (!Interactive)
        {
            return await work(new LineObserver()).ConfigureAwait(false);
        }

#if CRADLE_DEVICE_ONLY
        throw new System.Diagnostics.UnreachableException($"{title}: cradle-device draws no progress bar");
#else
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context => await work(new BarObserver(context, title)).ConfigureAwait(false)).ConfigureAwait(false);
#endif
    }

    /// <summary>How often a line reports a running transfer when there is no bar.</summary>
    public static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);

    /// <summary>The approval code, on stderr, whatever the output: the person at the host must see it.</summary>
    public static void ShowApprovalCode(string hostName, string code, TimeSpan timeout) =>
        Console.Error.WriteLine($"waiting for approval on host {hostName}: check that it shows code {code}, then run 'cradle host approve {code}' there (waits up to {timeout.TotalMinutes:0} min)");

    /// <summary>Prints what a person must act on, on every kind of output.</summary>
    private abstract class ConsoleObserver : ISessionObserver
    {
        public void ApprovalCode(string hostName, string code, TimeSpan timeout) => ShowApprovalCode(hostName, code, timeout);

        public void PartnershipCreated(PartnershipSlot slot) =>
            Console.Error.WriteLine($"partnership created with {slot.HostName}: number {new Protocol.PartnershipNumber(slot.Number)}");

        public void Warning(string message) => Console.Error.WriteLine($"warning: {message}");

        public void Notice(string message) => Console.Error.WriteLine(message);

        public Task<bool?> ConfirmNewHostAsync(NewHost host, CancellationToken cancellationToken) => AskAboutNewHostAsync(host);

        public abstract void Progress(BackupProgress progress);
    }

    /// <summary>
    /// Asks on a terminal whether to trust a new host: the user types the code the host shows (or
    /// y). Without a terminal there is nobody to ask (null): the device keeps the partnership
    /// waiting for <c>--accept-new-host CODE</c>.
    /// </summary>
    public static async Task<bool?> AskAboutNewHostAsync(NewHost host)
    {
        if (Console.IsInputRedirected || Console.IsErrorRedirected)
        {
            return null;
        }

        Console.Error.Write(host.Reclaim
            ? $"{host.Name} takes back this device's old partnership; its certificate is sha256 {host.Fingerprint}. Trust it? Type {host.Code} or y to accept, anything else refuses: "
            : $"new host {host.Name} at {host.Route}: does it show code {host.Code}? Type the code (or y) to trust it, anything else refuses: ");
        var answer = (await Task.Run(Console.ReadLine).ConfigureAwait(false))?.Trim();
        return answer is not null && (answer == host.Code || answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Lines for a journal: one when a phase starts, then one every <see cref="LineInterval"/> with the rate since the last.</summary>
    private sealed class LineObserver : ConsoleObserver
    {
        private readonly Lock _lock = new();
        private string _phase = "";
        private long _lastTicks;
        private long _lastBytes;

        public override void Progress(BackupProgress progress)
        {
            lock (_lock)
            {
                var now = Environment.TickCount64;
                var newPhase = progress.Phase != _phase;
                if (!newPhase && (progress.Phase != "uploading" || now - _lastTicks < LineInterval.TotalMilliseconds))
                {
                    return;
                }

                var rate = newPhase || now == _lastTicks ? null : $", {Format.Rate((progress.BytesDone - _lastBytes) * 1000.0 / (now - _lastTicks))}";
                _phase = progress.Phase;
                _lastTicks = now;
                _lastBytes = progress.BytesDone;
                var line = progress.Phase switch
                {
                    "scanning" => "scanning the data folders",
                    "uploading" => $"uploading: {progress.FilesDone}/{Format.Count(progress.FilesTotal, "file")}, {Format.Bytes(Math.Min(progress.BytesDone, progress.BytesTotal))} of {Format.Bytes(progress.BytesTotal)}{Percent(progress)}{rate}, {Format.Bytes(progress.WireBytesSent)} sent",
                    "committing" => $"committing: {Format.Count(progress.FilesDone, "file")}, {Format.Bytes(progress.BytesDone)}, {Format.Bytes(progress.WireBytesSent)} sent",
                    _ => null,
                };
                if (line is not null)
                {
                    Console.Error.WriteLine(line);
                }
            }
        }

        private static string Percent(BackupProgress p) =>
            p.BytesTotal > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" ({100.0 * Math.Min(p.BytesDone, p.BytesTotal) / p.BytesTotal:0}%)") : "";
    }

#if !CRADLE_DEVICE_ONLY
    /// <summary>The bar, made at the first progress report: before it (connecting, waiting for an approval) there is nothing to show.</summary>
    private sealed class BarObserver(ProgressContext context, string title) : ConsoleObserver
    {
        private ProgressTask? _task;

        public override void Progress(BackupProgress progress)
        {
            var task = _task ??= context.AddTask(Markup.Escape(title), maxValue: 1);
            task.MaxValue = Math.Max(1, progress.BytesTotal);
            task.Value = progress.Phase is "done" or "committing" ? task.MaxValue : Math.Min(progress.BytesDone, task.MaxValue);
            task.Description = Markup.Escape(progress.Phase == "scanning" ? $"{title}: scanning" : $"{title}: {progress.Phase} {progress.FilesDone}/{Format.Count(progress.FilesTotal, "file")}");
        }
    }
#endif
}
