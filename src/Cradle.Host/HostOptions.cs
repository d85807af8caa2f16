using Cradle.Links;

namespace Cradle.Host;

/// <summary>How a host runs. Immutable; validated when the service starts.</summary>
public sealed record HostOptions
{
    /// <summary>The host's folder: database, packs, certificate.</summary>
    public required string DataFolder { get; init; }

    /// <summary>Where sessions are accepted (network link). Port 0 picks a free port.</summary>
    public LinkAddress Listen { get; init; } = new("0.0.0.0", LinkAddress.DefaultPort);

    /// <summary>The name devices see; null keeps the stored one (first start: the machine name).</summary>
    public string? Name { get; init; }

    /// <summary>Create network partnerships without the operator's approval (lab setups, the demo).</summary>
    public bool AutoApprove { get; init; }

    /// <summary>How long a new partnership waits for the operator before it is refused.</summary>
    public TimeSpan ApprovalTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the TLS handshake and hello may take before the connection is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public ChannelOptions Channel { get; init; } = new();

    public TimeProvider Time { get; init; } = TimeProvider.System;
}
