using System.CommandLine;
using Cradle.Device;
using Cradle.Links;
using Cradle.Links.Serial;

namespace Cradle.Cli;

/// <summary>The options that say which link a device command uses: <c>--host</c>, <c>--serial</c> or <c>--usb</c>.</summary>
internal sealed class RouteOptions
{
    public Option<string?> Host { get; } = new("--host") { Description = "The host's network address (with --usb: its address on the USB link, default 169.254.2.2)", HelpName = "ADDR:PORT" };

    public Option<string?> Serial { get; } = new("--serial") { Description = "Connect over this serial port, offering a session until the host answers", HelpName = "PORT" };

    public Option<int> Baud { get; } = new("--baud") { Description = "The serial port's rate", DefaultValueFactory = _ => SerialLink.DefaultBaud, HelpName = "N" };

    public Option<string?> Usb { get; } = new("--usb") { Description = "Connect over the USB cable's network interface: wait for it to come up, back up by itself", HelpName = "IFACE" };

    public IEnumerable<Option> All => [Host, Serial, Baud, Usb];

    /// <summary>The route the options name; a clear error when none or several are given.</summary>
    public HostRoute Parse(ParseResult result)
        => Parse(result.GetValue(Host), result.GetValue(Serial), result.GetValue(Usb), result.GetValue(Baud));

    /// <summary>The route these values name (from the flags, or from the settings of <c>cradle device connect</c>).</summary>
    public static HostRoute Parse(string? host, string? serial, string? usb, int baud)
    {
        if (baud is < 50 or > 4_000_000)
        {
            throw new ArgumentException($"--baud {baud}: give a rate between 50 and 4000000 (common: {string.Join(", ", SerialLink.CommonBaudRates)})");
        }

        return (host, serial, usb) switch
        {
            (_, not null, not null) or (not null, not null, null) => throw new ArgumentException("give one link: --host ADDR:PORT, --serial PORT or --usb IFACE"),
            (null, null, null) => throw new ArgumentException("give a link to the host: --host ADDR:PORT (network), --serial PORT (serial cable) or --usb IFACE (USB cable)"),
            (_, null, not null) => new UsbRoute(usb, host is null ? UsbRoute.DefaultHost : LinkAddress.Parse(host)),
            (null, not null, null) => new SerialRoute(serial, baud),
            (not null, null, null) => new NetworkRoute(LinkAddress.Parse(host)),
        };
    }
}
