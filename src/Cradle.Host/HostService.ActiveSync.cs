using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Cradle.ActiveSync.Dccm;
using Cradle.Host.ActiveSync;
using Cradle.Protocol;

namespace Cradle.Host;

/// <summary>
/// ActiveSync devices (Windows CE / Windows Mobile over RNDIS): when a cable brings an interface
/// named with <c>--activesync</c> up with an IPv4 address, the host listens on that address's
/// TCP 990 and triggers the device (one UDP byte to its port 5679) until it connects; one device
/// per interface, as a cable carries one. Cable out ends the device's session.
/// </summary>
public sealed partial class HostService
{
    /// <summary>How often the device is triggered again while none is connected.</summary>
    private static readonly TimeSpan TriggerInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Fails at start, with the way out, when this process may not bind a privileged DCCM port:
    /// the interface may come up only later, and a host that cannot serve it must say so now.
    /// </summary>
    private void CheckActiveSyncPort()
    {
        if (_options.ActiveSyncInterfaces.Count == 0 || _options.ActiveSyncPort >= 1024)
        {
            return;
        }

        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var endpoint = new IPEndPoint(IPAddress.Loopback, _options.ActiveSyncPort);
        try
        {
            probe.Bind(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw ActiveSyncListener.BindFailure(endpoint, e);
        }
        catch (SocketException)
        {
            // Taken on loopback (another program): the privilege is there; the interface's own address is tried when it comes up.
        }
    }

    private async Task WatchActiveSyncInterfaceAsync(string name, CancellationToken cancellationToken)
    {
        await Task.Yield();
        string? lastProblem = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var address = ActiveSyncAddress(name);
            if (address is null)
            {
                await DelayAsync(UsbPoll, cancellationToken).ConfigureAwait(false);
                continue;
            }

            ActiveSyncListener listener;
            try
            {
                listener = ActiveSyncListener.Start(new IPEndPoint(address.Address, _options.ActiveSyncPort), _options.ActiveSync, _logger);
            }
            catch (CradleException e)
            {
                if (e.Message != lastProblem)
                {
                    ActiveSyncHostLog.InterfaceUnavailable(_logger, name, e.Message);
                    lastProblem = e.Message;
                }

                await DelayAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            lastProblem = null;
            var device = DeviceAddress(address);
            ActiveSyncHostLog.InterfaceUp(_logger, name, listener.LocalEndPoint.ToString(), device.ToString());
            await using (listener.ConfigureAwait(false))
            {
                using var cable = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var serving = ServeActiveSyncAsync(listener, device, cable.Token);
                while (!cancellationToken.IsCancellationRequested && Equals(ActiveSyncAddress(name)?.Address, address.Address))
                {
                    await DelayAsync(UsbPoll, cancellationToken).ConfigureAwait(false);
                }

                if (!cancellationToken.IsCancellationRequested)
                {
                    ActiveSyncHostLog.InterfaceDown(_logger, name);
                }

                await cable.CancelAsync().ConfigureAwait(false);
                await serving.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Triggers the device until it connects, runs its session, and again after it leaves (unless it was refused).</summary>
    private async Task ServeActiveSyncAsync(ActiveSyncListener listener, IPAddress device, CancellationToken cancellationToken)
    {
        var trigger = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (trigger)
            {
                try
                {
                    await listener.SendTriggerAsync(device, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    ActiveSyncHostLog.TriggerFailed(_logger, device.ToString(), e.Message);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            DccmControlChannel channel;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                wait.CancelAfter(TriggerInterval);
                try
                {
                    channel = await listener.AcceptDeviceAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    continue; // not connected yet: trigger again
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var session = new ActiveSyncSession(this, _options, _logger, channel);
            var running = session.RunAsync(cancellationToken);
            Track(running);
            try
            {
                // A refused device is not triggered again before the cable is pulled; one that connects by itself is still served.
                trigger = await running.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // A session's failure must never take down the host or the other sessions.
                HostLog.SessionCrashed(_logger, session.Remote, e);
            }
        }
    }

    /// <summary>The interface's first IPv4 address (with its prefix) while it is up; null otherwise.</summary>
    private static UnicastIPAddressInformation? ActiveSyncAddress(string name)
    {
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name);
        if (nic is null || nic.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown))
        {
            return null;
        }

        return nic.GetIPProperties().UnicastAddresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork);
    }

    /// <summary>
    /// Where the device is: the first address of the interface's network (an RNDIS device serves
    /// DHCP from there; Windows Mobile Device Center's fixed pair is device 169.254.2.1, host .2).
    /// </summary>
    internal static IPAddress DeviceAddress(UnicastIPAddressInformation address)
    {
        var prefix = address.PrefixLength is > 0 and <= 30 ? address.PrefixLength : 24;
        var host = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.Address.GetAddressBytes());
        var mask = uint.MaxValue << (32 - prefix);
        var first = (host & mask) + 1;
        var device = first == host ? first + 1 : first;
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, device);
        return new IPAddress(bytes);
    }
}
