namespace Cradle.Protocol;

/// <summary>Versions of the wire protocol this build speaks.</summary>
public static class ProtocolVersion
{
    /// <summary>The one version this build speaks. A peer stating another is refused by name.</summary>
    public const uint Current = 1;
}
