namespace Cradle.Protocol;

/// <summary>Versions of the wire protocol this build speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>
    /// The one version this build speaks. A peer stating another is refused by name.
    /// 2: the device answers a new secret with <c>PartnershipStored</c> (a v1 device would not,
    /// and its v2 host would wait for it).
    /// </summary>
    public const uint Current = 2;
}
