namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A USB cable as the two sides see it: a point-to-point network interface on each. Two network
/// namespaces (host, device) that this test creates and deletes, joined by a veth pair with the
/// addresses Windows Mobile Device Center used (host 169.254.2.2, device 169.254.2.1), optionally
/// shaped to USB 2.0's 480 Mbit/s. Plugging is link up, unplugging link down. Needs root (CI is).
/// </summary>
public sealed class UsbCable : IDisposable
{
    private UsbCable(string id)
    {
        HostNamespace = $"cradle-h{id}";
        DeviceNamespace = $"cradle-d{id}";
        HostInterface = $"ch{id}";
        DeviceInterface = $"cd{id}";
    }

    public string HostNamespace { get; }

    public string DeviceNamespace { get; }

    public string HostInterface { get; }

    public string DeviceInterface { get; }

    public static UsbCable Create(bool plugged, string? rate = null)
    {
        var cable = new UsbCable(Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        try
        {
            Ip("netns", "add", cable.HostNamespace);
            Ip("netns", "add", cable.DeviceNamespace);
            Ip("link", "add", cable.HostInterface, "type", "veth", "peer", "name", cable.DeviceInterface);
            Ip("link", "set", cable.HostInterface, "netns", cable.HostNamespace);
            Ip("link", "set", cable.DeviceInterface, "netns", cable.DeviceNamespace);
            Ip("-n", cable.HostNamespace, "addr", "add", "169.254.2.2/24", "dev", cable.HostInterface);
            Ip("-n", cable.DeviceNamespace, "addr", "add", "169.254.2.1/24", "dev", cable.DeviceInterface);
            Ip("-n", cable.HostNamespace, "link", "set", "lo", "up");
            Ip("-n", cable.DeviceNamespace, "link", "set", "lo", "up");
            Ip("-n", cable.DeviceNamespace, "link", "set", cable.DeviceInterface, "up");
            if (rate is not null)
            {
                Run("ip", "netns", "exec", cable.HostNamespace, "tc", "qdisc", "add", "dev", cable.HostInterface, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms");
                Run("ip", "netns", "exec", cable.DeviceNamespace, "tc", "qdisc", "add", "dev", cable.DeviceInterface, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "50ms");
            }

            if (plugged)
            {
                cable.Plug();
            }

            return cable;
        }
        catch
        {
            cable.Dispose();
            throw;
        }
    }

    /// <summary>Cable in: the host's end comes up, and with it the device's carrier.</summary>
    public void Plug() => Ip("-n", HostNamespace, "link", "set", HostInterface, "up");

    /// <summary>Cable out: the host's end goes down; the device's end loses its carrier.</summary>
    public void Unplug() => Ip("-n", HostNamespace, "link", "set", HostInterface, "down");

    private static void Ip(params string[] args) => Run("ip", args);

    private static void Run(string program, params string[] args) => ProgramRun.Run(program, args);

    public void Dispose()
    {
        // Deleting a namespace deletes the veth end inside it, and with it the pair.
        foreach (var ns in new[] { HostNamespace, DeviceNamespace })
        {
            try
            {
                Ip("netns", "delete", ns);
            }
            catch (InvalidOperationException)
            {
                // Not created (a failure half way through Create).
            }
        }
    }
}
