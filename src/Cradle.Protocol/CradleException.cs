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
/// message, a hostile path). The session is torn down; nothing from it is committed.
/// </summary>
public sealed class ProtocolViolationException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);

/// <summary>The link dropped or timed out. Retrying later may succeed.</summary>
public sealed class LinkClosedException(string message, Exception? inner = null)
    : CradleException(message, isTransient: true, inner);

/// <summary>
/// One side refused the session for a reason a person must act on: a partnership rule
/// (P1–P9), failed authentication, or an unsupported protocol version.
/// </summary>
public sealed class SessionRefusedException(string rule, string message)
    : CradleException(message, isTransient: false)
{
    /// <summary>The rule id ("P5") or the refusal class ("auth", "version", "protocol").</summary>
    public string Rule { get; } = rule;
}

/// <summary>
/// The address answered, but not as a Cradle host (a web server, another TLS service): trying
/// again will not help; the address or port is wrong.
/// </summary>
public sealed class NotACradleHostException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);
