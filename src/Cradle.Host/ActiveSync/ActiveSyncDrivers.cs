namespace Cradle.Host.ActiveSync;

/// <summary>
/// Which network interfaces are a cradled Windows CE / Windows Mobile device for
/// <c>--activesync auto</c>: those whose kernel driver (sysfs <c>class/net/IFACE/device/driver</c>)
/// is one a device's USB network function binds to — <c>rndis_host</c> (RNDIS, what Windows Mobile
/// speaks) or <c>cdc_ether</c> (CDC Ethernet, some CE 6 devices). Virtual interfaces (veth,
/// bridges, tunnels) have no <c>device</c> link and never match.
/// </summary>
internal static class ActiveSyncDrivers
{
    /// <summary>The drivers a cradled device's USB network function is bound to.</summary>
    public static readonly IReadOnlyList<string> Cradled = ["rndis_host", "cdc_ether"];

    /// <summary>
    /// The driver of <paramref name="interfaceName"/> under <paramref name="sysfsRoot"/> (normally
    /// <c>/sys</c>) when it is one of <paramref name="drivers"/>; null otherwise.
    /// </summary>
    public static string? Match(string sysfsRoot, string interfaceName, IReadOnlyList<string> drivers)
    {
        if (interfaceName.Length == 0 || interfaceName.Contains('/', StringComparison.Ordinal) || interfaceName is "." or "..")
        {
            return null;
        }

        var link = Path.Combine(sysfsRoot, "class", "net", interfaceName, "device", "driver");
        string? driver;
        try
        {
            // The link's target names the driver: ../../../../bus/usb/drivers/rndis_host.
            driver = new FileInfo(link).LinkTarget is { } target ? Path.GetFileName(target.TrimEnd('/')) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return driver is not null && drivers.Contains(driver, StringComparer.Ordinal) ? driver : null;
    }
}
