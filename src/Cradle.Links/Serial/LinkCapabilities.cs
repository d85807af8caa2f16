namespace Cradle.Links.Serial;

/// <summary>
/// What one side of the serial link layer can do, stated in the <c>seq</c> field of its Offer
/// (the device) or Answer (the host): the low byte is its link-layer version, the high byte the
/// most frames it keeps ahead of the next one it expects (its receive window). The first release
/// sent 0 there and never read it, so a peer stating nothing is that release: version 1 with a
/// window of 8 frames. The field is read on the new side only; the old side ignores it.
/// </summary>
public readonly record struct LinkCapabilities(byte Version, byte ReceiveWindow)
{
    /// <summary>This build's link layer: adaptive frame sizes and a window of up to 32 frames (docs/protocol.md §1.3).</summary>
    public const byte CurrentVersion = 2;

    /// <summary>The most frames a receive window may hold: the selective-acknowledgement bitmap has 32 bits.</summary>
    public const int MaxWindow = 32;

    /// <summary>The first release's link layer: it states nothing (seq 0) and keeps 8 frames ahead.</summary>
    public static LinkCapabilities First { get; } = new(1, 8);

    /// <summary>The value of the Offer's or Answer's <c>seq</c> field; 0 for the first release (which states nothing).</summary>
    public ushort Encode() => Version <= 1 ? (ushort)0 : (ushort)(Version | (ReceiveWindow << 8));

    /// <summary>Reads a peer's statement; 0 (or anything unusable) is the first release.</summary>
    public static LinkCapabilities Decode(ushort seq)
    {
        var version = (byte)(seq & 0xFF);
        var window = seq >> 8;
        if (version < 2 || window is < 1 or > MaxWindow)
        {
            return First;
        }

        return new LinkCapabilities(version, (byte)window);
    }

    public override string ToString() => $"link layer v{Version}, window {ReceiveWindow}";
}
