using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Cradle.Host.Dashboard;

/// <summary>
/// <c>GET /api/v1/events</c>: server-sent events. <c>sessions</c> whenever a session's phase or
/// progress changes (at most about five a second), <c>devices</c> and <c>pending</c> when those
/// lists change (looked at every second: approvals and backups also come from other processes
/// through the database), and a comment line every 15 s to keep proxies from closing the stream.
/// </summary>
public sealed partial class DashboardServer
{
    private static readonly TimeSpan EventsTick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan EventsThrottle = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan EventsKeepalive = TimeSpan.FromSeconds(15);

    private async Task EventsAsync(HttpContext context)
    {
        // The stream ends when the page goes or the host stops (which would otherwise wait for it).
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var cancellationToken = ending.Token;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var time = _host.Store.Time;
        var seen = -1L;
        string? devices = null;
        string? pending = null;
        var lastWrite = time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wrote = false;
                var sessions = _host.Sessions.Snapshot();
                if (sessions.Version != seen)
                {
                    seen = sessions.Version;
                    await SendAsync(response, "sessions", JsonSerializer.Serialize(sessions, DashboardJson.Default.SessionsView), cancellationToken).ConfigureAwait(false);
                    wrote = true;
                }

                wrote |= await SendIfChangedAsync(response, "devices", HostReports.Devices(_host.Store, _options.OverdueAfter, time.GetUtcNow()), DashboardJson.Default.ListDeviceRow, ref devices, cancellationToken).ConfigureAwait(false);
                wrote |= await SendIfChangedAsync(response, "pending", HostReports.Pending(_host.Store), DashboardJson.Default.ListPendingRow, ref pending, cancellationToken).ConfigureAwait(false);
                if (wrote)
                {
                    lastWrite = time.GetTimestamp();
                }
                else if (time.GetElapsedTime(lastWrite) > EventsKeepalive)
                {
                    await response.WriteAsync(": keepalive\n\n", cancellationToken).ConfigureAwait(false);
                    lastWrite = time.GetTimestamp();
                }

                await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(EventsThrottle, time, cancellationToken).ConfigureAwait(false);
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                tick.CancelAfter(EventsTick);
                try
                {
                    await _host.Sessions.WaitForChangeAsync(seen, tick.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // A tick without a session change: look at devices and pending again.
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page was closed.
        }
    }

    private static Task<bool> SendIfChangedAsync<T>(HttpResponse response, string name, T value, JsonTypeInfo<T> type, ref string? last, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(value, type);
        if (json == last)
        {
            return Task.FromResult(false);
        }

        last = json;
        return SendAndSayAsync(response, name, json, cancellationToken);
    }

    private static async Task<bool> SendAndSayAsync(HttpResponse response, string name, string json, CancellationToken cancellationToken)
    {
        await SendAsync(response, name, json, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static Task SendAsync(HttpResponse response, string name, string json, CancellationToken cancellationToken) =>
        response.WriteAsync(new StringBuilder().Append("event: ").Append(name).Append("\ndata: ").Append(json).Append("\n\n").ToString(), cancellationToken);
}
