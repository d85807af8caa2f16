namespace Cradle.Links;

/// <summary>
/// A link that knows, below the message layer, whether it moves. The serial link layer knows
/// when the peer last proved alive: a noisy line may hold a message back for many seconds while
/// frames are resent, yet every frame acknowledged or received shows the peer is there. A TCP
/// stream knows when the kernel last took bytes written: a peer that stopped reading (stopped,
/// hung) lets a send wait forever once the buffers are full. <see cref="MessageChannel"/> counts
/// silence, and a stalled send, only when the link cannot show progress either.
/// </summary>
public interface ILinkLiveness
{
    /// <summary>How long ago the link last made progress with the peer; null when it cannot tell.</summary>
    TimeSpan? SincePeerProgress { get; }

    /// <summary>How long ago the link last took bytes written to it on their way; null when it cannot tell.</summary>
    TimeSpan? SinceSendProgress { get; }
}
