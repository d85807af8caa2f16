using Cradle.Links;

namespace Cradle.Host;

/// <summary>How a host runs. Immutable; validated when the service starts.</summary>
public sealed record HostOptions
{
    /// <summary>The host's folder: database, packs, certificate.</summary>
    public required string DataFolder { get; init; }

    /// <summary>Where the packs are (<c>--packs</c>); null: <c>packs/</c> in <see cref="DataFolder"/>.</summary>
    internal Cradle.Store.IPackStorage? Packs { get; init; }

    /// <summary>
    /// The catalog and partnership registry: null for <c>cradle.db</c> in <see cref="DataFolder"/>,
    /// else e.g. PostgreSQL shared by several hosts. The caller owns it (disposes it after the service).
    /// </summary>
    internal Store.CatalogDatabase? Catalog { get; init; }

    /// <summary>
    /// The newest protocol version this host speaks: <see cref="Protocol.ProtocolVersion.Current"/>;
    /// tests set an older one to stand for a host of an earlier release.
    /// </summary>
    internal uint NewestProtocolVersion { get; init; } = Protocol.ProtocolVersion.Current;

    /// <summary>Where sessions are accepted (network link). Port 0 picks a free port.</summary>
    public LinkAddress Listen { get; init; } = new("0.0.0.0", LinkAddress.DefaultPort);

    /// <summary>The name devices see; null keeps the stored one (first start: the machine name).</summary>
    public string? Name { get; init; }

    /// <summary>Serial ports to watch for devices offering a session (a null rate: Get Connected scans the common rates).</summary>
    public IReadOnlyList<SerialPortSetting> SerialPorts { get; init; } = [];

    /// <summary>Network interfaces that a USB cable brings up; sessions arriving on them count as physically present.</summary>
    public IReadOnlyList<string> UsbInterfaces { get; init; } = [];

    /// <summary>
    /// Network interfaces an ActiveSync device (Windows CE / Windows Mobile over RNDIS) brings up:
    /// the host answers on that interface's TCP 990 and triggers the device (<c>--activesync</c>).
    /// </summary>
    public IReadOnlyList<string> ActiveSyncInterfaces { get; init; } = [];

    /// <summary>The name in <see cref="ActiveSyncInterfaces"/> that watches every interface a cradled device's USB driver brings up.</summary>
    public const string ActiveSyncAuto = "auto";

    /// <summary>
    /// Where <c>--activesync auto</c> reads interfaces' drivers (<c>class/net/IFACE/device/driver</c>):
    /// <c>/sys</c>, or the environment variable <c>CRADLE_SYSFS_ROOT</c> (tests give a made-up tree for a veth, which has no driver link).
    /// </summary>
    public string SysfsRoot { get; init; } = Environment.GetEnvironmentVariable("CRADLE_SYSFS_ROOT") is { Length: > 0 } root ? root : "/sys";

    /// <summary>
    /// How often a device left in its cradle is backed up again (<c>--activesync-every</c>);
    /// zero: once per connection. An unchanged device costs listings only.
    /// </summary>
    public TimeSpan ActiveSyncBackupEvery { get; init; } = DefaultActiveSyncBackupEvery;

    /// <summary>The default of <see cref="ActiveSyncBackupEvery"/>: hourly.</summary>
    public static readonly TimeSpan DefaultActiveSyncBackupEvery = TimeSpan.FromHours(1);

    /// <summary>Device folders an ActiveSync backup walks besides <c>\My Documents</c> and the storage cards (<c>--activesync-folder</c>).</summary>
    public IReadOnlyList<string> ActiveSyncFolders { get; init; } = [];

    /// <summary>The DCCM port ActiveSync devices connect to: 990 (privileged); tests on loopback use another.</summary>
    internal int ActiveSyncPort { get; init; } = Cradle.ActiveSync.Dccm.ActiveSyncListener.DccmPort;

    /// <summary>The ActiveSync sessions' timeouts and read pipelining.</summary>
    public Cradle.ActiveSync.ActiveSyncOptions ActiveSync { get; init; } = new();

    /// <summary>The serial link layer's timing (its dead-line timeout among them).</summary>
    public Links.Serial.ReliableLinkOptions SerialLink { get; init; } = new();

    /// <summary>
    /// Create network partnerships without the operator's approval (lab setups, the demo).
    /// Serial and USB partnerships never need approval: the device is at the host, on a cable.
    /// </summary>
    public bool AutoApprove { get; init; }

    /// <summary>
    /// Let a cold-booted device that proves its recovery key take back its old record (P9):
    /// same name and history, a new number. Off: P7 holds as the seed manual says.
    /// </summary>
    public bool AllowReclaim { get; init; }

    /// <summary>How long a new partnership waits for the operator before it is refused.</summary>
    public TimeSpan ApprovalTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the TLS handshake and hello may take before the connection is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public ChannelOptions Channel { get; init; } = new();

    /// <summary>What one session and the whole host may hold for devices, and how fast they may query.</summary>
    public SessionLimits Limits { get; init; } = new();

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>A serial port the host watches, at a fixed rate or (null) scanning the common rates.</summary>
public sealed record SerialPortSetting(string Path, int? Baud)
{
    /// <summary>Parses <c>PATH</c> or <c>PATH@BAUD</c>.</summary>
    public static SerialPortSetting Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return new SerialPortSetting(text, null);
        }

        if (!int.TryParse(text.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var baud) || baud is < 50 or > 4_000_000)
        {
            throw new ArgumentException($"'{text}': give PORT or PORT@BAUD with a rate between 50 and 4000000");
        }

        return new SerialPortSetting(text[..at], baud);
    }

    public override string ToString() => Baud is { } b ? $"{Path}@{b}" : Path;
}
