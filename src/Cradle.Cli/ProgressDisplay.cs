using Cradle.Device;
using Cradle.Store;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary>
/// Live progress: a Spectre.Console progress bar on an interactive terminal; on a pipe or in a
/// script, a line per phase on stderr so stdout stays clean for results.
/// </summary>
internal static class ProgressDisplay
{
    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    /// <summary>Runs device work with a progress bar fed by the session's observer.</summary>
    public static async Task<T> DeviceAsync<T>(string title, Func<ISessionObserver, Task<T>> work)
    {
        if (!Interactive)
        {
            return await work(new LineObserver()).ConfigureAwait(false);
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                return await work(new BarObserver(task)).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    public static Task<RestoreResult> RestoreAsync(SnapshotReader reader, SnapshotInfo snapshot, string target, CancellationToken cancellationToken) =>
        RestoreAsync(reader, snapshot, target, new FolderRestoreOptions(), cancellationToken);

    public static async Task<RestoreResult> RestoreAsync(SnapshotReader reader, SnapshotInfo snapshot, string target, FolderRestoreOptions options, CancellationToken cancellationToken)
    {
        var restorer = new FolderRestorer(reader);
        if (!Interactive || options.DryRun)
        {
            return await restorer.RestoreAsync(snapshot, target, options, null, cancellationToken).ConfigureAwait(false);
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"restore {snapshot.Id}", maxValue: Math.Max(1, snapshot.Bytes));
                var progress = new Progress<RestoreProgress>(p => task.Value = p.Bytes);
                var result = await restorer.RestoreAsync(snapshot, target, options, progress, cancellationToken).ConfigureAwait(false);
                task.Value = task.MaxValue;
                return result;
            }).ConfigureAwait(false);
    }

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

        public abstract void Progress(BackupProgress progress);
    }

    private sealed class LineObserver : ConsoleObserver
    {
        private string _phase = "";

        public override void Progress(BackupProgress progress)
        {
            if (progress.Phase != _phase)
            {
                _phase = progress.Phase;
                Console.Error.WriteLine($"{progress.Phase}: {progress.FilesDone}/{progress.FilesTotal} files, {Format.Bytes(progress.BytesDone)}/{Format.Bytes(progress.BytesTotal)}, {Format.Bytes(progress.WireBytesSent)} sent");
            }
        }
    }

    private sealed class BarObserver(ProgressTask task) : ConsoleObserver
    {
        public override void Progress(BackupProgress progress)
        {
            task.MaxValue = Math.Max(1, progress.BytesTotal);
            task.Value = progress.Phase is "done" or "committing" ? task.MaxValue : progress.BytesDone;
            task.Description = $"{progress.Phase} {progress.FilesDone}/{progress.FilesTotal} files";
        }
    }
}
