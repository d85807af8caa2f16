using System.Globalization;
using System.Net.NetworkInformation;
using Cradle.Links;
using Cradle.Links.Serial;
using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// How a device reaches its host: the three links of the manual. Opening a route gives the raw
/// byte stream that TLS and the protocol then run over, the same on every link.
/// </summary>
public abstract record HostRoute
{
    /// <summary>"network", "serial" or "usb": what the session and the status report.</summary>
    public abstract string Kind { get; }

    /// <summary>Opens the link to the host (waiting as the link requires).</summary>
    public abstract Task<Stream> OpenAsync(string deviceName, DeviceOptions options, ISessionObserver observer, CancellationToken cancellationToken);

    /// <summary>Watches the link while a session runs; completes when the link is physically gone (a cable pulled).</summary>
    public virtual Task WhenLostAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);
}

/// <summary>The network link: TCP to an address.</summary>
public sealed record NetworkRoute(LinkAddress Address) : HostRoute
{
    public override string Kind => "network";

    public override Task<Stream> OpenAsync(string deviceName, DeviceOptions options, ISessionObserver observer, CancellationToken cancellationToken) =>
        TcpLink.ConnectAsync(Address, options.ConnectTimeout, cancellationToken);

    public override string ToString() => Address.ToString();
}

/// <summary>
/// The serial link: a port at a rate. Opening it offers a session again and again until a host
/// answers — the manual's "run Connect while the Get Connected wizard is checking the ports".
/// </summary>
public sealed record SerialRoute(string Port, int Baud) : HostRoute
{
    public override string Kind => "serial";

    public override async Task<Stream> OpenAsync(string deviceName, DeviceOptions options, ISessionObserver observer, CancellationToken cancellationToken)
    {
        var line = SerialLink.Open(Port, Baud);
        try
        {
            DeviceEngineLog.OfferingSerial(options.Logger, Port, Baud);
            observer.Notice($"offering a session on {Port} at {Baud} baud until a host answers (on the host: 'cradle host run --serial PORT', or 'cradle host get-connected' to find this device)");
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(options.SerialOfferTimeout);
            ReliableLink link;
            try
            {
                link = await SerialLink.OfferAsync(line, deviceName, options.SerialLink, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new LinkClosedException($"no host answered on {Port} at {Baud} baud within {options.SerialOfferTimeout.TotalSeconds:0} s: is the host watching this port, at this rate, and is the cable in?");
            }

            return new OwningStream(link, line);
        }
        catch
        {
            await line.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"serial:{Port}@{Baud}");
}

/// <summary>
/// The USB link: the cable brings up a point-to-point network interface (RNDIS / CDC-NCM).
/// Opening waits for that interface to come up, then connects to the host's address on it;
/// while a session runs, the interface going down (cable out) ends it.
/// </summary>
public sealed record UsbRoute(string Interface, LinkAddress Host) : HostRoute
{
    /// <summary>The host's address on the USB link unless told otherwise (Windows Mobile Device Center used 169.254.2.2).</summary>
    public static readonly LinkAddress DefaultHost = new("169.254.2.2", LinkAddress.DefaultPort);

    /// <summary>How often the interface's state is read.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public override string Kind => "usb";

    public override async Task<Stream> OpenAsync(string deviceName, DeviceOptions options, ISessionObserver observer, CancellationToken cancellationToken)
    {
        if (!IsUp(Interface))
        {
            DeviceEngineLog.WaitingForCable(options.Logger, Interface);
            observer.Notice($"waiting for the USB cable: interface {Interface} is down");
            while (!IsUp(Interface))
            {
                await Task.Delay(PollInterval, options.Time, cancellationToken).ConfigureAwait(false);
            }

            DeviceEngineLog.CableIn(options.Logger, Interface, Host.ToString());
            observer.Notice($"USB cable in: {Interface} is up; connecting to {Host}");
        }

        // The interface may be up a moment before its address is usable: retry briefly.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TcpLink.ConnectAsync(Host, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (LinkClosedException) when (attempt < 8 && IsUp(Interface))
            {
                await Task.Delay(PollInterval * attempt, options.Time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override async Task WhenLostAsync(CancellationToken cancellationToken)
    {
        while (IsUp(Interface))
        {
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when the interface exists and has its carrier (the cable is in).</summary>
    public static bool IsUp(string name)
    {
        // Linux says "unknown" for links without carrier reporting; treat that as up.
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name);
        return nic is not null && nic.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown;
    }

    public override string ToString() => $"usb:{Interface}→{Host}";
}
