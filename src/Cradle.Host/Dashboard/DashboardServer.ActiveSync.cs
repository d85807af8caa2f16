using System.Text.Json;
using System.Threading.Channels;
using Cradle.Host.ActiveSync;
using Cradle.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cradle.Host.Dashboard;

/// <summary>
/// <c>POST /api/v1/devices/{name}/restore-to-device</c>: a restore onto the cradled ActiveSync
/// device of that name, on its live session. The answer is one JSON object per line
/// (<c>application/x-ndjson</c>): <c>progress</c> lines while it writes, then one <c>done</c>
/// line with the result (<c>complete</c> false when anything was not written) or one
/// <c>failed</c> line. Errors before anything is written (no such device connected, no such
/// snapshot) are plain error answers with their status. The request going away (Ctrl-C in the
/// CLI) cancels the restore; the file in hand stays under its temporary name.
/// </summary>
public sealed partial class DashboardServer
{
    private void MapActiveSync(RouteGroupBuilder api)
    {
        api.MapPost("/devices/{name}/restore-to-device", (RequestDelegate)RestoreToDeviceAsync);
        Get(api, "/activesync/devices", _ => ConnectedActiveSyncDevices(), DashboardJson.Default.ListActiveSyncDeviceRow);
        api.MapPost("/activesync/rename", (RequestDelegate)RenameDeviceAsync);
    }

    /// <summary><c>GET /api/v1/activesync/devices</c>: the ActiveSync devices cradled now, with where each stands here.</summary>
    private List<ActiveSyncDeviceRow> ConnectedActiveSyncDevices() =>
        [.. _host.ActiveSyncDevices.All().Where(s => s.Device is not null).Select(s => new ActiveSyncDeviceRow(s.Device!.Value.Value, s.Remote, s.Standing))];

    /// <summary>
    /// <c>POST /api/v1/activesync/rename</c>: renames a cradled ActiveSync device (P8: its
    /// partnerships end), only with <c>consent</c>; the new name is checked by P1 here and by P5
    /// against the names this host holds.
    /// </summary>
    private async Task RenameDeviceAsync(HttpContext context)
    {
        var request = await ReadBodyAsync(context, DashboardJson.Default.DeviceRenameRequest).ConfigureAwait(false)
            ?? throw new ArgumentException("send {device, newName, consent} (and connection, the device's ADDR:PORT, when two carry its name)");
        var device = DeviceName.Parse(request.Device);
        var newName = DeviceName.TryParse(request.NewName, out var parsed, out var reason)
            ? parsed
            : throw new ArgumentException($"the new name '{WireText.Clean(request.NewName ?? "")}' is not a device name (P1: {reason}); a name has 1-15 letters, digits, '-' or '_' and starts with a letter");
        var result = await _host.RenameActiveSyncDeviceAsync(device, request.Connection, newName, request.Consent, context.RequestAborted).ConfigureAwait(false);
        DashboardLog.Action(_logger, result.Describe());
        await context.Response.WriteAsJsonAsync(result, DashboardJson.Default.DeviceRenameResult, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task RestoreToDeviceAsync(HttpContext context)
    {
        var device = DeviceName.Parse(Route(context, "name"));
        var request = await ReadBodyAsync(context, DashboardJson.Default.DeviceRestoreRequest).ConfigureAwait(false) ?? new DeviceRestoreRequest(null, null, false);
        var updates = Channel.CreateUnbounded<DeviceRestoreProgress>(new UnboundedChannelOptions { SingleReader = true });
        var running = _host.RestoreToActiveSyncDeviceAsync(device, request.Snapshot, request.Path, request.AllowGuest,
            new InlineProgress<DeviceRestoreProgress>(p => updates.Writer.TryWrite(p)), context.RequestAborted);
        _ = running.ContinueWith(_ => updates.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var started = false;
        await foreach (var update in updates.Reader.ReadAllAsync(context.RequestAborted).ConfigureAwait(false))
        {
            if (!started)
            {
                started = true;
                context.Response.ContentType = "application/x-ndjson";
                DashboardLog.Action(_logger, $"restores onto {device}{(request.Path is null ? "" : $" ({request.Path})")}");
            }

            await WriteEventAsync(context, new DeviceRestoreEvent("progress", update, null, null)).ConfigureAwait(false);
        }

        DeviceRestoreResult result;
        try
        {
            result = await running.ConfigureAwait(false);
        }
        catch (CradleException e) when (started)
        {
            // The answer has begun: the failure is its last line, not a status.
            await WriteEventAsync(context, new DeviceRestoreEvent("failed", null, null, e.Message)).ConfigureAwait(false);
            return;
        }

        if (!started)
        {
            // Headers are read-only once the first line went out.
            context.Response.ContentType = "application/x-ndjson";
        }

        DashboardLog.Action(_logger, result.Describe());
        await WriteEventAsync(context, new DeviceRestoreEvent("done", null, result, null)).ConfigureAwait(false);
    }

    private static async Task WriteEventAsync(HttpContext context, DeviceRestoreEvent line)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(line, DashboardJson.Default.DeviceRestoreEvent);
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.WriteAsync("\n"u8.ToArray(), context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
