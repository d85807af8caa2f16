using System.Text.Json.Serialization.Metadata;
using Cradle.Links.Serial;
using Cradle.Protocol;
using Cradle.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cradle.Host.Dashboard;

/// <summary>The JSON API, <c>/api/v1/</c>: what the page shows and does (docs/api.md).</summary>
public sealed partial class DashboardServer
{
    private void MapApi(WebApplication app)
    {
        var api = app.MapGroup("/api/v1");
        Get(api, "/host", _ => HostInfo(), DashboardJson.Default.HostInfo);
        Get(api, "/devices", _ => HostReports.Devices(_host.Store, _options.OverdueAfter, _host.Store.Time.GetUtcNow()), DashboardJson.Default.ListDeviceRow);
        Get(api, "/devices/{name}/snapshots", c => HostReports.Snapshots(_host.Store, DeviceName.Parse(Route(c, "name"))), DashboardJson.Default.ListSnapshotRow);
        api.MapDelete("/devices/{name}", (RequestDelegate)ForgetAsync);
        Get(api, "/snapshots", _ => HostReports.Snapshots(_host.Store, null), DashboardJson.Default.ListSnapshotRow);
        api.MapGet("/snapshots/{id}/entries", (RequestDelegate)EntriesAsync);
        api.MapGet("/snapshots/{id}/file", (RequestDelegate)DownloadFileAsync);
        api.MapGet("/snapshots/{id}/zip", (RequestDelegate)DownloadZipAsync);
        api.MapPost("/snapshots/{id}/restore", (RequestDelegate)RestoreAsync);
        Get(api, "/sessions", _ => _host.Sessions.Snapshot(), DashboardJson.Default.SessionsView);
        api.MapGet("/events", (RequestDelegate)EventsAsync);
        Get(api, "/pending", _ => HostReports.Pending(_host.Store), DashboardJson.Default.ListPendingRow);
        api.MapPost("/pending/{code}/approve", (RequestDelegate)(c => DecideAsync(c, PendingState.Approved)));
        api.MapPost("/pending/{code}/deny", (RequestDelegate)(c => DecideAsync(c, PendingState.Denied)));
        api.MapPost("/get-connected", (RequestDelegate)GetConnectedAsync);
        api.MapPost("/serial-ports", (RequestDelegate)WatchSerialPortAsync);
        Get(api, "/health", _ => HostReports.Health(_host.Store), DashboardJson.Default.HealthReport);
        api.MapPost("/check", (RequestDelegate)CheckAsync);
        MapActiveSync(api);
        api.Map("/{**rest}", (RequestDelegate)(c => WriteErrorAsync(c, StatusCodes.Status404NotFound, $"no such endpoint: {c.Request.Method} {c.Request.Path} (docs/api.md lists them)")));
    }

    private static void Get<T>(RouteGroupBuilder api, string pattern, Func<HttpContext, T> produce, JsonTypeInfo<T> type) =>
        api.MapGet(pattern, (RequestDelegate)(context => context.Response.WriteAsJsonAsync(produce(context), type, contentType: null, context.RequestAborted)));

    private static string Route(HttpContext context, string name) => (string)context.Request.RouteValues[name]!;

    private static long RouteId(HttpContext context) =>
        long.TryParse(Route(context, "id"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new ArgumentException($"'{Route(context, "id")}' is not a snapshot id");

    private HostInfo HostInfo() => new(
        _host.Name,
        _host.Store.Folder,
        _host.BoundAddress?.ToString(),
        Address.ToString(),
        RequiresToken,
        _options.OverdueAfter.TotalHours,
        [.. _host.SerialPorts.Select(p => p.ToString())],
        [.. _host.Options.UsbInterfaces]);

    private async Task ForgetAsync(HttpContext context)
    {
        var device = DeviceName.Parse(Route(context, "name"));
        var keep = string.Equals(context.Request.Query["keepBackups"], "true", StringComparison.OrdinalIgnoreCase);
        var result = HostReports.Forget(_host.Store, device, keep);
        DashboardLog.Action(_logger, $"forgot {result.Device}: partnership {(result.PartnershipRemoved ? "removed" : "was already gone")}, {result.SnapshotsRemoved} snapshots removed, {result.SnapshotsKept} kept");
        await context.Response.WriteAsJsonAsync(result, DashboardJson.Default.ForgetResult, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task DecideAsync(HttpContext context, PendingState decision)
    {
        var code = Route(context, "code").Trim();
        DecisionDone done;
        try
        {
            done = await ApprovalDecision.DecideAsync(_host.Store.Database, code, decision, _host.Options.Time, ApprovalDecision.OutcomeWait, context.RequestAborted).ConfigureAwait(false);
        }
        catch (KeyNotFoundException e)
        {
            DashboardLog.Refused(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "?", e.Message);
            throw;
        }

        DashboardLog.Action(_logger, done.Message);
        switch (done.Outcome)
        {
            case "gone":
                // The device left before anyone decided: nothing was made, and the page says so.
                await WriteErrorAsync(context, StatusCodes.Status410Gone, done.Message).ConfigureAwait(false);
                return;
            case "already-decided":
                await WriteErrorAsync(context, StatusCodes.Status409Conflict, done.Message).ConfigureAwait(false);
                return;
        }

        await context.Response.WriteAsJsonAsync(done, DashboardJson.Default.DecisionDone, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task GetConnectedAsync(HttpContext context)
    {
        var request = await ReadBodyAsync(context, DashboardJson.Default.GetConnectedRequest).ConfigureAwait(false) ?? new GetConnectedRequest(null, null, null);
        var seconds = request.ListenSeconds ?? HostService.ScanDwell.TotalSeconds;
        if (seconds is <= 0 or > 10)
        {
            throw new ArgumentException($"listenSeconds {seconds}: give 0 < seconds <= 10");
        }

        // The ports the host watches are its own: a probe there would steal a device's offer.
        var watched = _host.SerialPorts.ToDictionary(p => p.Path, StringComparer.Ordinal);
        var extra = (request.Ports ?? []).Where(p => !watched.ContainsKey(p)).ToList();
        var toScan = SerialLink.PortsToScan(extra).Where(p => !watched.ContainsKey(p)).ToList();
        IReadOnlyList<int>? rates = request.Baud is { } baud ? [baud] : null;
        var rows = await GetConnected.ScanAsync(toScan, rates, TimeSpan.FromSeconds(seconds), context.RequestAborted).ConfigureAwait(false);
        rows.AddRange(watched.Values.Select(p => new PortRow(p.Path, p.Baud, "watched", null, 0, "the host watches this port: a device offering a session here connects by itself", [])));
        await context.Response.WriteAsJsonAsync(rows, DashboardJson.Default.ListPortRow, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WatchSerialPortAsync(HttpContext context)
    {
        var request = await ReadBodyAsync(context, DashboardJson.Default.WatchSerialPortRequest).ConfigureAwait(false)
            ?? throw new ArgumentException("give the port to watch: {\"port\": \"/dev/ttyUSB0\", \"baud\": 115200}");
        var port = SerialPortPath(request.Port);
        if (request.Baud is { } baud && baud is < 50 or > 4_000_000)
        {
            throw new ArgumentException($"baud {baud}: give a rate from 50 to 4000000, or none to scan the common rates");
        }

        var setting = new SerialPortSetting(port, request.Baud);
        var started = _host.WatchSerialPort(setting);
        if (started)
        {
            DashboardLog.Action(_logger, $"watches the serial port {setting} (Get Connected)");
        }

        await context.Response.WriteAsJsonAsync(new WatchSerialPortDone(setting.ToString(), started), DashboardJson.Default.WatchSerialPortDone, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// A serial port the dashboard may have the host open: a device under /dev (or a COM port on
    /// Windows), never another file the host can reach.
    /// </summary>
    private static string SerialPortPath(string? port)
    {
        if (string.IsNullOrWhiteSpace(port))
        {
            throw new ArgumentException("give the port to watch, e.g. /dev/ttyUSB0");
        }

        if (OperatingSystem.IsWindows())
        {
            return port.StartsWith("COM", StringComparison.OrdinalIgnoreCase) && byte.TryParse(port.AsSpan(3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
                ? port.ToUpperInvariant()
                : throw new ArgumentException($"'{port}' is not a serial port: give COM1, COM2, …");
        }

        var full = Path.GetFullPath(port);
        if (!full.StartsWith("/dev/", StringComparison.Ordinal) || full != port)
        {
            throw new ArgumentException($"'{port}' is not a serial port: give a device's full path under /dev, e.g. /dev/ttyUSB0");
        }

        return full;
    }

    private async Task CheckAsync(HttpContext context)
    {
        var request = await ReadBodyAsync(context, DashboardJson.Default.CheckRequest).ConfigureAwait(false) ?? new CheckRequest(false);
        var cancellationToken = context.RequestAborted;
        using var lease = _host.Store.Lease("dashboard");
        var report = CheckResult.Of(await Task.Run(() => new StoreChecker(_host.Store).CheckAsync(request.ReadData, null, cancellationToken), cancellationToken).ConfigureAwait(false));
        DashboardLog.Action(_logger, $"checked the store: {(report.Ok ? "no problems" : $"{report.Problems.Count} problems")}");
        await context.Response.WriteAsJsonAsync(report, DashboardJson.Default.CheckResult, contentType: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The request's JSON body; null when it has none.</summary>
    private static async Task<T?> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        if (context.Request.ContentLength is 0 or null && !context.Request.Headers.TransferEncoding.Any())
        {
            return null;
        }

        return await context.Request.ReadFromJsonAsync(type, context.RequestAborted).ConfigureAwait(false);
    }
}
