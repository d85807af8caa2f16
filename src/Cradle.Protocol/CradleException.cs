using Cradle.Protocol.Messages;

namespace Cradle.Protocol;

/// <summary>
/// The root of every error Cradle raises on purpose. <see cref="IsTransient"/> says whether
/// trying again later (reconnecting, retrying) can succeed without anyone changing anything.
/// </summary>
public class CradleException : Exception
{
    public CradleException(string message, bool isTransient = false, Exception? inner = null)
        : base(message, inner) => IsTransient = isTransient;

    /// <summary>True when a retry may succeed (a dropped link, a busy database).</summary>
    public bool IsTransient { get; }
}

/// <summary>
/// The peer sent bytes that break the protocol (a malformed or oversized frame, an unexpected
/// message, a hostile path). The session is torn down; nothing from it is committed. The host
/// refuses it as <see cref="RefusalClass.Protocol"/>. (Not named CradleProtocolException:
/// System.Net has a type of that name, and a file using both namespaces would need an alias.)
/// </summary>
public sealed class CradleProtocolException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);

/// <summary>The link dropped or timed out. Retrying later may succeed.</summary>
public sealed class LinkClosedException(string message, Exception? inner = null)
    : CradleException(message, isTransient: true, inner);

/// <summary>
/// One side refused the session: a partnership rule (P1–P9), failed authentication, an
/// unsupported protocol version — or, transient, a host that cannot serve now (busy, disk full).
/// The same type on both sides: the host throws it and sends it as a <see cref="Refusal"/>
/// (<see cref="Refusals.ToMessage(SessionRefusedException)"/>); the device turns a received
/// one back into it (<see cref="Refusals.ToException"/>). Whether to try again is
/// <see cref="CradleException.IsTransient"/>, from the class (<see cref="Refusals.IsTransient"/>).
/// </summary>
public sealed class SessionRefusedException : CradleException
{
    /// <summary>A refusal of a known class: its rule id and whether it is transient come from <see cref="Refusals"/>.</summary>
    public SessionRefusedException(RefusalClass refusal, string message)
        : this(refusal, Refusals.Rule(refusal), message, Refusals.IsTransient(refusal))
    {
    }

    /// <summary>A refusal as received: a newer peer's class this build does not know keeps the peer's rule text and transient flag.</summary>
    internal SessionRefusedException(RefusalClass refusal, string rule, string message, bool isTransient)
        : base(message, isTransient)
    {
        Class = refusal;
        Rule = rule;
    }

    /// <summary>What the refusal is; a value outside the enum's names is a newer peer's class.</summary>
    public RefusalClass Class { get; }

    /// <summary>The rule id ("P5") or the class's id ("auth", "busy"): for the logs, scripts (JSON) and the wire's text.</summary>
    public string Rule { get; }
}

/// <summary>
/// The address answered, but not as a Cradle host (a web server, another TLS service): trying
/// again will not help; the address or port is wrong.
/// </summary>
public sealed class NotACradleHostException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);
