using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Cradle.Links;

namespace Cradle.Host;

/// <summary>
/// The host's USB interfaces: when a cable brings one up, listen on its address; sessions that
/// arrive there are physically present. When it goes down (cable out), stop listening and end
/// the sessions that came over it at once instead of waiting for the keepalive.
/// </summary>
public sealed partial class HostService
{
    private static readonly TimeSpan UsbPoll = TimeSpan.FromMilliseconds(250);

    private async Task WatchUsbInterfaceAsync(string name, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested)
        {
            var address = UpAddress(name);
            if (address is null)
            {
                await DelayAsync(UsbPoll, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var listener = new TcpListener(address, _options.Listen.Port == 0 ? LinkAddress.DefaultPort : _options.Listen.Port);
            try
            {
                listener.Start(backlog: 16);
            }
            catch (SocketException e)
            {
                HostLog.UsbUnavailable(_logger, name, $"cannot listen on {address}: {e.Message}");
                await DelayAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            HostLog.UsbUp(_logger, name, listener.LocalEndpoint.ToString() ?? "?");
            using var cable = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var accepting = AcceptLoopAsync(listener, "usb", cable.Token);
            while (!cancellationToken.IsCancellationRequested && Equals(UpAddress(name), address))
            {
                await DelayAsync(UsbPoll, cancellationToken).ConfigureAwait(false);
            }

            if (!cancellationToken.IsCancellationRequested)
            {
                HostLog.UsbDown(_logger, name);
            }

            await cable.CancelAsync().ConfigureAwait(false);
            listener.Stop();
            await accepting.ConfigureAwait(false);
        }
    }

    /// <summary>The interface's first IPv4 address while it is up with its carrier; null otherwise.</summary>
    private static IPAddress? UpAddress(string name)
    {
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name);
        if (nic is null || nic.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown))
        {
            return null;
        }

        return nic.GetIPProperties().UnicastAddresses
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
    }
}
