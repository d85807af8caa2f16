using Cradle.Store;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary>The host's restore into a folder, with progress (the host's commands only: cradle-device has no store).</summary>
internal static partial class ProgressDisplay
{
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
}
