using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cradle.Host.Dashboard;
using Cradle.Protocol;

namespace Cradle.Cli;

/// <summary>
/// <c>cradle host rename-device DEVICE NEWNAME --yes</c>: renames a cradled ActiveSync device from
/// the host (its <c>HKLM\Ident\Name</c>), the way out of a P5 refusal for a device that carries a
/// name another device already partnered under. The running host does it on the device's live
/// session; the command asks it through its API, as <c>host restore --to-device</c> does.
/// </summary>
internal static partial class HostCommands
{
    private static Command RenameDevice()
    {
        var store = new StoreOptions(packs: false);
        var device = new Argument<string>("DEVICE") { Description = "The cradled ActiveSync device's name now (e.g. Pocket_PC); it need not be partnered: a device refused because another device already partnered here under its name is the usual case" };
        var newName = new Argument<string>("NEWNAME") { Description = "The new name: 1-15 letters, digits, '-' or '_', starting with a letter, and not a name this host already holds" };
        var yes = new Option<bool>("--yes") { Description = "Consent: renaming ends every partnership the device holds, with this host and any other PC (a partnership is defined by the name). Without it nothing is done" };
        var connection = new Option<string?>("--connection") { Description = "The device's connection (ADDR:PORT, as the host's console and dashboard show it) when two connected devices carry the name", HelpName = "ADDR:PORT" };
        var http = new Option<string?>("--http") { Description = "The running host's API address (default: the one it wrote into its folder)", HelpName = "ADDR:PORT" };
        var json = CommonOptions.Json();
        var command = new Command("rename-device", "Rename a cradled Windows CE / Windows Mobile device from the host: writes NEWNAME into the device (HKLM\\Ident\\Name) over ActiveSync. This ENDS EVERY PARTNERSHIP the device holds, with this host and with any other PC (a partnership is defined by the name), and needs --yes. The host then connects to it again and it partners under NEWNAME (a new partnership, backed up from scratch); this host keeps the old name's record and backups (restorable; 'cradle host forget OLD' releases the name). Needs the running host ('cradle host run' with its dashboard on)") { device, newName, yes, connection, http, json };
        AddAll(command, store.All);
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var name = DeviceName.Parse(result.GetValue(device));
            if (!result.GetValue(yes))
            {
                return CliErrors.Write(ExitCodes.Usage, "usage", "not renamed", $"renaming {name} ends every partnership it holds (P8), with this host and any other PC; nothing was done. Run again with --yes to consent");
            }

            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            var folder = opened.Folder;
            var address = RunningHostAddress(folder, result.GetValue(http));
            var token = HttpToken.LoadOrCreate(folder, out _).Reveal();
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/activesync/rename");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add(DashboardServer.RequestHeader, "cli");
            // NEWNAME goes as typed: the host applies P1 and P5 to it (one place decides).
            var body = JsonSerializer.Serialize(new DeviceRenameRequest(name.Value, result.GetValue(connection), result.GetValue(newName), Consent: true), CliJson.Default.DeviceRenameRequest);
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                return CliErrors.Write(ExitCodes.Failed, "failed", "error", $"no running host answers at {address} ({e.Message}): renaming a device needs 'cradle host run' with its dashboard on (not --http off), the device cradled to it");
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    var message = TryError(text) ?? $"the host answered {(int)response.StatusCode} {response.ReasonPhrase}";
                    return response.StatusCode switch
                    {
                        HttpStatusCode.Conflict => CliErrors.Write(ExitCodes.Refused, "refused", "refused", message),
                        HttpStatusCode.BadRequest => CliErrors.Write(ExitCodes.Usage, "usage", "not renamed", message),
                        _ => CliErrors.Write(ExitCodes.Failed, "failed", "error", message),
                    };
                }

                var done = JsonSerializer.Deserialize(text, CliJson.Default.DeviceRenameResult)
                    ?? throw new InvalidDataException("the host's answer was empty");
                if (result.GetValue(json))
                {
                    CliJson.Print(done, CliJson.Default.DeviceRenameResult);
                }
                else
                {
                    Console.Out.WriteLine(WireText.Clean(done.Describe()));
                    Console.Out.WriteLine($"the host connects to it again: it partners as {WireText.Clean(done.NewName)} (see 'cradle host run' or 'cradle host devices')");
                }

                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
