using System.Net;
using System.Text.Json;
using Cradle.Protocol;
using Microsoft.AspNetCore.Http;

namespace Cradle.Host.Dashboard;

public sealed partial class DashboardServer
{
    /// <summary>The header the page sends with every state-changing request; a cross-site form cannot set it.</summary>
    public const string RequestHeader = "X-Cradle-Request";

    /// <summary>The cookie that carries the token for the page once it was opened with <c>?token=</c>.</summary>
    public const string TokenCookie = "cradle-token";

    /// <summary>
    /// Every request passes here first: security headers, then the token (beyond loopback), then
    /// the cross-site checks for requests that change something.
    /// </summary>
    private async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        var response = context.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'";

        var request = context.Request;
        if (_loopback && !IsLoopbackHost(request.Host.Host))
        {
            // On loopback it answers to loopback names only: a page on another site cannot reach
            // it through a DNS name that it rebinds to 127.0.0.1 (the token stops it too).
            await RefuseAsync(context, StatusCodes.Status403Forbidden, $"this dashboard listens on loopback and answers to localhost and loopback addresses only, not to '{request.Host.Host}'").ConfigureAwait(false);
            return;
        }

        if (_token is not null)
        {
            if (request.Path == "/" && request.Query.TryGetValue("token", out var offered) && HttpMethods.IsGet(request.Method))
            {
                if (!_token.Matches(offered.ToString()))
                {
                    await RefuseAsync(context, StatusCodes.Status401Unauthorized, "that token is not this host's dashboard token (cradle host http-token prints it)").ConfigureAwait(false);
                    return;
                }

                // Keep the token out of the address bar and history: a cookie the page's own
                // requests carry (SameSite=Strict: never on a request another site starts).
                response.Cookies.Append(TokenCookie, offered.ToString(), new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
                response.Redirect("/");
                return;
            }

            if (!_token.Matches(PresentedToken(request)))
            {
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "this dashboard needs its token: open /?token=TOKEN once in the browser, or send 'Authorization: Bearer TOKEN' (cradle host http-token on the host prints it)").ConfigureAwait(false);
                return;
            }
        }

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            if (!request.Headers.ContainsKey(RequestHeader))
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, $"a request that changes something needs the {RequestHeader} header (protection against cross-site requests)").ConfigureAwait(false);
                return;
            }

            var origin = request.Headers.Origin.ToString();
            if (origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, $"a request from another site ({origin}) may not change anything here").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }

    private static string? PresentedToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        return request.Cookies.TryGetValue(TokenCookie, out var cookie) ? cookie : null;
    }

    private static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        DashboardLog.Refused(_logger, context.Request.Method, context.Request.Path.ToString(), context.Connection.RemoteIpAddress?.ToString() ?? "?", reason);
        await WriteErrorAsync(context, status, reason).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ApiError(message), DashboardJson.Default.ApiError, contentType: null, context.RequestAborted);
    }

    /// <summary>Turns the errors handlers throw into a status and one clear message, as the CLI does into an exit code.</summary>
    private async Task MapErrorsAsync(HttpContext context, RequestDelegate next)
    {
        int status;
        string message;
        try
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // the browser went away
        }
        catch (KeyNotFoundException e)
        {
            (status, message) = (StatusCodes.Status404NotFound, e.Message);
        }
        catch (ArgumentException e)
        {
            (status, message) = (StatusCodes.Status400BadRequest, e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal));
        }
        catch (JsonException e)
        {
            (status, message) = (StatusCodes.Status400BadRequest, $"the request body is not the JSON this endpoint takes: {e.Message}");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("content type", StringComparison.OrdinalIgnoreCase))
        {
            (status, message) = (StatusCodes.Status415UnsupportedMediaType, "send the request body as application/json");
        }
        catch (Protocol.CradleProtocolException e)
        {
            // A path or name that the rules refuse: the request's fault.
            (status, message) = (StatusCodes.Status400BadRequest, e.Message);
        }
        catch (ActiveSync.ActiveSyncRefusedException e)
        {
            // A rule refuses it (P5: the new name is taken here): nothing was written.
            (status, message) = (StatusCodes.Status409Conflict, e.Message);
        }
        catch (ActiveSync.ActiveSyncDeviceUnavailableException e)
        {
            // The device is not there (or not alone, or a guest): nothing was written.
            (status, message) = (StatusCodes.Status409Conflict, e.Message);
        }
        catch (ApprovalsLockedException e)
        {
            (status, message) = (StatusCodes.Status429TooManyRequests, e.Message);
        }
        catch (CradleException e) when (e.IsTransient)
        {
            (status, message) = (StatusCodes.Status503ServiceUnavailable, e.Message);
        }
        catch (CradleException e)
        {
            DashboardLog.Failed(_logger, context.Request.Method, context.Request.Path.ToString(), e);
            (status, message) = (StatusCodes.Status500InternalServerError, e.Message);
        }
        catch (IOException e)
        {
            DashboardLog.Failed(_logger, context.Request.Method, context.Request.Path.ToString(), e);
            (status, message) = (StatusCodes.Status500InternalServerError, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            (status, message) = (StatusCodes.Status403Forbidden, e.Message);
        }

        if (context.Response.HasStarted)
        {
            // Part of a download went out already: cut it off so the client sees it incomplete.
            context.Abort();
            return;
        }

        context.Response.Clear();
        await WriteErrorAsync(context, status, message).ConfigureAwait(false);
    }
}
