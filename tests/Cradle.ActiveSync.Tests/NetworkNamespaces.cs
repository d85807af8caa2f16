using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// A USB cable between the test and the emulated device: two network namespaces this test makes
/// (the host's and the device's), joined by a veth pair with the addresses Windows Mobile Device
/// Center used (host 169.254.2.2, device 169.254.2.1), optionally shaped with <c>tc tbf</c>. Unplug
/// takes the host's end down (the device loses its carrier), as pulling the cable does. Nothing is
/// added to the test machine's own namespace. Needs root (CI is).
/// </summary>
internal sealed partial class VethCable : IDisposable
{
    public const string HostAddress = "169.254.2.2";
    public const string DeviceAddress = "169.254.2.1";

    private VethCable(string id)
    {
        HostNamespace = $"cas-h{id}";
        DeviceNamespace = $"cas-d{id}";
        HostInterface = $"cah{id}";
        DeviceInterface = $"cad{id}";
    }

    public string HostNamespace { get; }

    public string DeviceNamespace { get; }

    public string HostInterface { get; }

    public string DeviceInterface { get; }

    /// <summary>Whether this machine can make namespaces (root, iproute2); the veth tests say so when it cannot.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces are Linux only";
        }

        if (Environment.UserName != "root")
        {
            return "making network namespaces needs root";
        }

        return File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip") || File.Exists("/bin/ip") ? null : "iproute2 (ip) is not installed";
    }

    /// <summary>Makes both namespaces and the veth; <paramref name="rate"/> (e.g. "8mbit") shapes both directions.</summary>
    public static VethCable Create(string? rate = null)
    {
        var cable = new VethCable(Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]);
        try
        {
            Ip("netns", "add", cable.HostNamespace);
            Ip("netns", "add", cable.DeviceNamespace);
            cable.Add(rate);
            return cable;
        }
        catch
        {
            cable.Dispose();
            throw;
        }
    }

    /// <summary>Adds the veth pair (both ends up, addressed, shaped when <paramref name="rate"/> is given), as a device's USB network interface appears when it is plugged in.</summary>
    public void Add(string? rate = null)
    {
        Ip("link", "add", HostInterface, "type", "veth", "peer", "name", DeviceInterface);
        Ip("link", "set", HostInterface, "netns", HostNamespace);
        Ip("link", "set", DeviceInterface, "netns", DeviceNamespace);
        Ip("-n", HostNamespace, "addr", "add", $"{HostAddress}/24", "dev", HostInterface);
        Ip("-n", DeviceNamespace, "addr", "add", $"{DeviceAddress}/24", "dev", DeviceInterface);
        Ip("-n", HostNamespace, "link", "set", "lo", "up");
        Ip("-n", DeviceNamespace, "link", "set", "lo", "up");
        Ip("-n", DeviceNamespace, "link", "set", DeviceInterface, "up");
        Ip("-n", HostNamespace, "link", "set", HostInterface, "up");
        if (rate is not null)
        {
            Run("ip", "netns", "exec", HostNamespace, "tc", "qdisc", "add", "dev", HostInterface, "root", "tbf", "rate", rate, "burst", "32kb", "latency", "50ms");
            Run("ip", "netns", "exec", DeviceNamespace, "tc", "qdisc", "add", "dev", DeviceInterface, "root", "tbf", "rate", rate, "burst", "32kb", "latency", "50ms");
        }
    }

    /// <summary>Deletes the veth pair, as an RNDIS interface goes away when its device is unplugged (not merely down).</summary>
    public void Remove() => Ip("-n", HostNamespace, "link", "del", HostInterface);

    public void Plug() => Ip("-n", HostNamespace, "link", "set", HostInterface, "up");

    public void Unplug() => Ip("-n", HostNamespace, "link", "set", HostInterface, "down");

    /// <summary>
    /// Runs <paramref name="action"/> on a thread that has entered the host's namespace: sockets it
    /// makes (a listener on 169.254.2.2:990) live there, and keep working from any thread after.
    /// </summary>
    public T InHostNamespace<T>(Func<T> action) => InNamespace(HostNamespace, action);

    public static T InNamespace<T>(string name, Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            using var original = File.OpenHandle("/proc/thread-self/ns/net");
            using var target = File.OpenHandle($"/var/run/netns/{name}");
            if (SetNs(target.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
            {
                failure = ExceptionDispatchInfo.Capture(new InvalidOperationException($"setns({name}) failed: errno {Marshal.GetLastPInvokeError()}"));
                return;
            }

            try
            {
                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                // The thread ends here anyway; going back keeps the runtime's view of it ordinary.
                _ = SetNs(original.DangerousGetHandle().ToInt32(), CloneNewNet);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

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
                // Not made (Create failed half way).
            }
        }
    }
}
