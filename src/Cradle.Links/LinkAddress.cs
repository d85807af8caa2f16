using System.Globalization;
using System.Net;

namespace Cradle.Links;

/// <summary>A TCP address as a person types it: <c>127.0.0.1:5679</c>, <c>[::1]:5679</c>, <c>host.example:5679</c>.</summary>
public sealed record LinkAddress(string Host, int Port)
{
    public const int DefaultPort = 5679;

    public static LinkAddress Parse(string text, int defaultPort = DefaultPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        if (IPEndPoint.TryParse(text, out var ip) && (ip.Port != 0 || text.EndsWith(":0", StringComparison.Ordinal)))
        {
            return new LinkAddress(ip.Address.ToString(), ip.Port);
        }

        if (IPAddress.TryParse(text.Trim('[', ']'), out var bare))
        {
            return new LinkAddress(bare.ToString(), defaultPort);
        }

        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            if (port > IPEndPoint.MaxPort)
            {
                throw new ArgumentException($"'{text}': port {port} is above {IPEndPoint.MaxPort}", nameof(text));
            }

            return new LinkAddress(text[..colon], port);
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{text}' is not ADDRESS:PORT", nameof(text));
        }

        return new LinkAddress(text, defaultPort);
    }

    public override string ToString() =>
        IPAddress.TryParse(Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{Host}]:{Port}"
            : $"{Host}:{Port}";
}
