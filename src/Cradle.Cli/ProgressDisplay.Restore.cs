using Cradle.Content;
using Cradle.Host;
using Spectre.Console;

namespace Cradle.Cli;

/// <summary>The host's restore into a folder, with progress (the host's commands only: cradle-device has no store).</summary>
internal static partial class ProgressDisplay
{
    public static async Task<RestoreResult> RestoreAsync(HostRepository store, SnapshotRow snapshot, string target, bool overwrite, bool dryRun, CancellationToken cancellationToken)
    {
        if (!Interactive || dryRun)
        {
            return await store.RestoreAsync(snapshot.Id, target, overwrite, dryRun, null, cancellationToken).ConfigureAwait(false);
        }

        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"restore {snapshot.Id}", maxValue: Math.Max(1, snapshot.Bytes));
                var progress = new Progress<long>(bytes => task.Value = bytes);
                var result = await store.RestoreAsync(snapshot.Id, target, overwrite, dryRun, progress, cancellationToken).ConfigureAwait(false);
                task.Value = task.MaxValue;
                return result;
            }).ConfigureAwait(false);
    }
}
