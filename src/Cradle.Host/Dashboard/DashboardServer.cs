using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cradle.Host.Dashboard;

/// <summary>
/// The host's web dashboard and its JSON API (<c>/api/v1/</c>, docs/api.md), served by Kestrel
/// inside <c>cradle host run</c>. On a loopback address it is open to whoever can reach it (the
/// machine's own users); on any other address every request needs the token
/// (<see cref="HttpToken"/>). State-changing requests always need the <c>X-Cradle-Request</c>
/// header and a matching Origin, which a cross-site page cannot send.
/// </summary>
public sealed partial class DashboardServer : IAsyncDisposable
{
    private readonly HostService _host;
    private readonly DashboardOptions _options;
    private readonly HttpToken? _token;
    private readonly bool _loopback;
    private readonly ILogger _logger;
    private readonly Dictionary<string, (byte[] Bytes, string Type)> _assets;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    private DashboardServer(HostService host, DashboardOptions options, HttpToken? token, ILogger logger)
    {
        _host = host;
        _options = options;
        _token = token;
        _loopback = IPAddress.IsLoopback(IPAddress.Parse(options.Address.Host));
        _logger = logger;
        _assets = LoadAssets();
    }

    /// <summary>Where the dashboard answers, e.g. <c>http://127.0.0.1:5680/</c> (the real port when 0 was asked for).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>True when requests need the token: always (loopback too, since issue 19).</summary>
    public bool RequiresToken => _token is not null;

    /// <summary>The token's file, when a token is needed.</summary>
    public string? TokenPath => _token?.Path;

    /// <summary>True when this start made the token (the operator sees it once, on the console).</summary>
    public bool TokenCreated { get; private set; }

    /// <summary>The token itself, for the operator's console at the first start; null when none is needed.</summary>
    public string? RevealToken() => _token?.Reveal();

    /// <summary>Starts the dashboard for a running host.</summary>
    public static async Task<DashboardServer> StartAsync(HostService host, DashboardOptions options, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        var ip = IPAddress.Parse(options.Address.Host);
        // Every request needs the token, on loopback too: loopback is open to every user of this
        // machine, and the token file is readable by the host's own user only (api.md, Access).
        var token = HttpToken.LoadOrCreate(host.Store.Folder, out var created);

        var logger = (loggers ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("cradle.dashboard");
        var server = new DashboardServer(host, options, token, logger) { TokenCreated = created };
        await server.StartKestrelAsync(ip, loggers, cancellationToken).ConfigureAwait(false);
        return server;
    }

    private async Task StartKestrelAsync(IPAddress ip, ILoggerFactory? loggers, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "cradle", ContentRootPath = _host.Store.Folder });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        if (loggers is not null)
        {
            // Kestrel's own warnings and errors reach the host's console; its per-request lines
            // (which would show a token in a URL) stay below the threshold.
            builder.Logging.AddProvider(new ForwardingLoggerProvider(loggers));
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            // "Hosting failed to start" and its stack trace: the one failure there is (the port
            // is taken) is reported below, in one line the operator can act on.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        }

        // The CLI owns Ctrl-C and SIGTERM; the dashboard stops when the host does.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.Listen(ip, _options.Address.Port);
        });
        var app = builder.Build();
        app.Use(GuardAsync);
        app.Use(MapErrorsAsync);
        MapPages(app);
        MapApi(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
                ? "the port is in use (another program, or another Cradle host)"
                : e.Message.TrimEnd('.');
            throw new Protocol.CradleException($"the dashboard cannot listen on {_options.Address}: {why}; choose another with --http ADDR:PORT, or --http off", isTransient: false, e);
        }

        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Address = new Uri(bound.EndsWith('/') ? bound : bound + "/");
        // Where the CLI finds the running host's API (cradle host restore --to-device): the port may be one the system chose.
        await File.WriteAllTextAsync(AddressFile(_host.Store.Folder), Address.ToString(), cancellationToken).ConfigureAwait(false);
        DashboardLog.Listening(_logger, Address.ToString(), IPAddress.IsLoopback(ip) ? "loopback; a token is needed" : "a token is needed");
    }

    private void MapPages(WebApplication app)
    {
        app.MapGet("/", (RequestDelegate)(context => ServeAssetAsync(context, "index.html")));
        app.MapGet("/assets/{name}", (RequestDelegate)(context => ServeAssetAsync(context, (string)context.Request.RouteValues["name"]!)));
    }

    private async Task ServeAssetAsync(HttpContext context, string name)
    {
        if (!_assets.TryGetValue(name, out var asset))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = asset.Type;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentLength = asset.Bytes.Length;
        await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The page, script and style, embedded in this assembly under <c>dashboard/</c>.</summary>
    private static Dictionary<string, (byte[] Bytes, string Type)> LoadAssets()
    {
        var assembly = typeof(DashboardServer).Assembly;
        var assets = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var name = resource["dashboard/".Length..];
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[name] = (copy.ToArray(), type);
        }

        return assets;
    }

    /// <summary>The file in the host's folder that holds the running dashboard's address, while it runs.</summary>
    public static string AddressFile(string hostFolder) => Path.Combine(hostFolder, "http-address");

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            File.Delete(AddressFile(_host.Store.Folder));
        }

        if (_app is not null)
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopping.Token).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }

        _stopping.Dispose();
    }

    /// <summary>Lets the host decide when to stop: no console handlers of its own.</summary>
    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

        public void Dispose()
        {
            // The host owns the factory.
        }
    }
}
