namespace Cradle.Protocol;

/// <summary>Versions of the wire protocol this build speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>
    /// The version this build speaks. 2: the device answers a new secret with
    /// <c>PartnershipStored</c>. The device speaks this one only; the host serves devices of
    /// every version from <see cref="Oldest"/> up and answers in the device's own.
    /// </summary>
    public const uint Current = 2;

    /// <summary>
    /// The oldest device the host serves. A version 1 device never says it stored a new
    /// secret: its partnership stays unconfirmed until its first authenticated session.
    /// </summary>
    public const uint Oldest = 1;
}
