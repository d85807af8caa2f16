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
    private void MapActiveSync(RouteGroupBuilder api) =>
        api.MapPost("/devices/{name}/restore-to-device", (RequestDelegate)RestoreToDeviceAsync);

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
