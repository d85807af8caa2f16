using Cradle.Links;

namespace Cradle.Host.Dashboard;

/// <summary>How the dashboard runs. Immutable.</summary>
public sealed record DashboardOptions
{
    /// <summary>The default address: loopback only (it still needs the token: loopback is open to every user of the machine).</summary>
    public static readonly LinkAddress DefaultAddress = new("127.0.0.1", 5680);

    /// <summary>Where Kestrel listens (an IP address; port 0 picks a free port).</summary>
    public LinkAddress Address { get; init; } = DefaultAddress;

    /// <summary>
    /// The folder the dashboard restores into (null: <see cref="DefaultRestoreFolder"/> in the
    /// host's folder). A restore goes into a new or empty folder inside it, never outside it and
    /// never through a symbolic link: the dashboard can write nowhere else on the host.
    /// </summary>
    public string? RestoreRoot { get; init; }

    /// <summary>The restore root inside the host's folder when none is set.</summary>
    public const string DefaultRestoreFolder = "restores";

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
