using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cradle.Host.ActiveSync;
using Cradle.Host.Dashboard;
using Cradle.Protocol;

namespace Cradle.Cli;

/// <summary>
/// <c>cradle host restore DEVICE --to-device</c>: the device is cradled to a running host, so this
/// asks that host (its JSON API, with the token from the host's folder) to write the snapshot
/// on the device's live session, shows the progress it reports, and exits 0 only when every
/// selected file was written.
/// </summary>
internal static partial class HostCommands
{
    private static async Task<int> RestoreToDeviceAsync(string hostFolder, string? httpOverride, DeviceName device, long? snapshot, string? path, bool allowGuest, bool json, CancellationToken cancellationToken)
    {
        var address = RunningHostAddress(hostFolder, httpOverride);
        var token = HttpToken.LoadOrCreate(hostFolder, out _).Reveal();
        using var http = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/devices/{Uri.EscapeDataString(device.Value)}/restore-to-device");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add(DashboardServer.RequestHeader, "cli");
        var body = JsonSerializer.Serialize(new DeviceRestoreRequest(snapshot, path, allowGuest), CliJson.Default.DeviceRestoreRequest);
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            return CliErrors.Write(ExitCodes.Failed, "failed", "error", $"no running host answers at {address} ({e.Message}): restoring onto a device needs 'cradle host run' with its dashboard on (not --http off), the device cradled to it");
        }

        using (response)
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            if (!response.IsSuccessStatusCode)
            {
                var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                var message = TryError(text) ?? $"the host answered {(int)response.StatusCode} {response.ReasonPhrase}";
                return response.StatusCode == HttpStatusCode.Conflict
                    ? CliErrors.Write(ExitCodes.Refused, "refused", "refused", message)
                    : CliErrors.Write(ExitCodes.Failed, "failed", "error", message);
            }

            string? shown = null;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                var update = JsonSerializer.Deserialize(line, CliJson.Default.DeviceRestoreEvent)
                    ?? throw new InvalidDataException("the host sent an empty line");
                switch (update.Event)
                {
                    case "progress" when update.Progress is { } p:
                        if (!json && p.Path is { } current && current != shown)
                        {
                            shown = current;
                            Console.Error.WriteLine($"writing {WireText.Clean(current)} ({p.Files}/{p.TotalFiles} files, {Format.Bytes(p.Bytes)} of {Format.Bytes(p.TotalBytes)})");
                        }

                        break;
                    case "done" when update.Result is { } result:
                        return Report(result, json);
                    case "failed":
                        return CliErrors.Write(ExitCodes.LinkFailed, "link", "link failed", $"the restore onto {device} failed: {update.Error}; nothing was left half-written under a real name (a file in hand stays as {DeviceRestoreResult.TempName} in its folder)");
                }
            }

            return CliErrors.Write(ExitCodes.Failed, "failed", "error", $"the host's answer ended before the restore's outcome: whether every file was written is unknown (the host's log says)");
        }
    }

    private static int Report(DeviceRestoreResult result, bool json)
    {
        if (json)
        {
            CliJson.Print(result, CliJson.Default.DeviceRestoreResult);
        }
        else
        {
            Console.Out.WriteLine(WireText.Clean(result.Describe()) + (result.Standing == "partnered" ? "" : $" (the device is {result.Standing} here)"));
            foreach (var failed in result.Failed)
            {
                Console.Error.WriteLine($"not restored: {WireText.Clean(failed.Path)}: {WireText.Clean(failed.Reason)}");
            }
        }

        if (result.Interrupted is not null)
        {
            return CliErrors.Write(ExitCodes.LinkFailed, "link", "link failed", $"the restore was interrupted after {result.Files} files: {result.Interrupted}");
        }

        return result.Failed.Count > 0
            ? CliErrors.Write(ExitCodes.Incomplete, "incomplete", "incomplete", $"{result.Failed.Count} of the snapshot's entries were NOT restored (listed above)")
            : ExitCodes.Ok;
    }

    /// <summary>The running host's API: --http when given, else the address the host wrote into its folder when its dashboard started.</summary>
    private static Uri RunningHostAddress(string hostFolder, string? httpOverride)
    {
        if (httpOverride is not null)
        {
            var parsed = DashboardOptions.ParseAddress(httpOverride) ?? throw new ArgumentException("--http off: restoring onto a device needs the running host's API");
            return new Uri($"http://{(parsed.Host.Contains(':', StringComparison.Ordinal) ? $"[{parsed.Host}]" : parsed.Host)}:{parsed.Port}/");
        }

        var file = DashboardServer.AddressFile(hostFolder);
        if (!File.Exists(file))
        {
            throw new ArgumentException($"no running host with its dashboard on uses {hostFolder} ({file} is absent): the device must be cradled to 'cradle host run' (without --http off); or name its API with --http ADDR:PORT");
        }

        return Uri.TryCreate(File.ReadAllText(file).Trim(), UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
            ? uri
            : throw new ArgumentException($"{file} does not hold a dashboard address; is the host's folder damaged?");
    }

    private static string? TryError(string text)
    {
        try
        {
            return JsonSerializer.Deserialize(text, CliJson.Default.ApiError)?.Error;
        }
        catch (JsonException)
        {
            return null; // not the API's error object: the status says what it can
        }
    }
}
