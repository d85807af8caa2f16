namespace Cradle.Protocol;

/// <summary>Versions of the wire protocol this build speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>
    /// The newest version this build speaks. 2: the device answers a new secret with
    /// <c>PartnershipStored</c>. 3: the device names what it could not read (<c>FileEntry.problem</c>)
    /// and the host carries forward the previous version of it (a partial snapshot). Both sides
    /// speak every version from <see cref="Oldest"/> up: the device states its range
    /// (<c>DeviceHello</c>: oldest, newest), the host answers with the newest both speak, and the
    /// session speaks that one.
    /// </summary>
    public const uint Current = 3;

    /// <summary>
    /// The oldest version either side speaks. In version 1 the device never says it stored a new
    /// secret: the host confirms a version 1 device's partnership at once.
    /// </summary>
    public const uint Oldest = 1;

    /// <summary>The first version in which a device may send entries it could not read (<c>FileEntry.problem</c>).</summary>
    public const uint Problems = 3;

    /// <summary>
    /// The version a session speaks: the newest in both ranges (the host's: <see cref="Oldest"/>
    /// to <paramref name="hostNewest"/>), null when they do not meet. A hello with no newest
    /// version (devices before version 2 stated one version) states a range of one.
    /// </summary>
    public static uint? Agree(uint deviceOldest, uint deviceNewest, uint hostNewest = Current)
    {
        var newest = Math.Min(Math.Max(deviceNewest, deviceOldest), hostNewest);
        return newest >= Math.Max(deviceOldest, Oldest) ? newest : null;
    }
}
