namespace Cradle.Links;

/// <summary>
/// A link that knows, below the message layer, when the peer last proved alive. The serial link
/// layer does: a noisy line may hold a message back for many seconds while frames are resent,
/// yet every frame acknowledged or received shows the peer is there. <see cref="MessageChannel"/>
/// counts silence only when neither it nor the link heard from the peer.
/// </summary>
public interface ILinkLiveness
{
    /// <summary>How long ago the link last made progress with the peer; null when it cannot tell.</summary>
    TimeSpan? SincePeerProgress { get; }
}
