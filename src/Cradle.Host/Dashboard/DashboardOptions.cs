using Cradle.Links;

namespace Cradle.Host.Dashboard;

/// <summary>How the dashboard runs. Immutable.</summary>
public sealed record DashboardOptions
{
    /// <summary>The default address: loopback only, so open without a token.</summary>
    public static readonly LinkAddress DefaultAddress = new("127.0.0.1", 5680);

    /// <summary>Where Kestrel listens (an IP address; port 0 picks a free port).</summary>
    public LinkAddress Address { get; init; } = DefaultAddress;

    /// <summary>A device whose last backup is older than this is flagged overdue.</summary>
    public TimeSpan OverdueAfter { get; init; } = HostReports.DefaultOverdueAfter;

    /// <summary>Parses <c>ADDR:PORT</c>, or <c>off</c> (null: no dashboard).</summary>
    public static LinkAddress? ParseAddress(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        if (string.Equals(text.Trim(), "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var address = LinkAddress.Parse(text, DefaultAddress.Port);
        if (address.Host == "localhost")
        {
            return address with { Host = "127.0.0.1" };
        }

        if (!System.Net.IPAddress.TryParse(address.Host, out _))
        {
            throw new ArgumentException($"--http {text}: give an IP address and port (127.0.0.1:5680, 0.0.0.0:5680, [::1]:5680) or 'off'");
        }

        return address;
    }
}
