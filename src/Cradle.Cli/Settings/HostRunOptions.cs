using System.CommandLine;
using Cradle.Host;
using Cradle.Host.Dashboard;
using Cradle.Links;

namespace Cradle.Cli.Settings;

/// <summary>
/// The flags of <c>cradle host run</c>, each with its key in the host folder's <c>cradle.json</c>
/// and its <c>CRADLE_HOST__…</c> variable. <c>cradle host config</c> takes the same flags and shows
/// what <c>host run</c> would use.
/// </summary>
internal sealed class HostRunOptions
{
    public const string Section = "host";

    public HostRunOptions()
        : this(CommonOptions.Data(), CommonOptions.Catalog(), PacksOption())
    {
    }

    /// <summary>The settings with another command's <c>--data</c>, <c>--catalog</c> and <c>--packs</c> (the host commands that open the store).</summary>
    public HostRunOptions(Option<string> data, Option<string> catalog, Option<string> packs)
    {
        Data = data;
        Catalog = catalog;
        Packs = packs;
    }

    public Option<string> Data { get; }

    public Option<string> Catalog { get; }

    public Option<string> Listen { get; } = new("--listen") { Description = "Address and port for device sessions (port 0: any free port)", DefaultValueFactory = _ => DefaultListen, HelpName = "ADDR:PORT" };

    public Option<string?> Name { get; } = new("--name") { Description = "The host name devices see (default: the stored one, else the machine name)", HelpName = "HOSTNAME" };

    public Option<bool> AutoApprove { get; } = new("--auto-approve") { Description = "Create network partnerships without the operator's approval (lab setups only)" };

    public Option<bool> AllowReclaim { get; } = new("--allow-reclaim") { Description = "Let a cold-booted device that proves its recovery key take back its old record: same name and history, a new number, no rename. Off: the device must rename" };

    public Option<string[]> Serial { get; } = new("--serial") { Description = "Watch a serial port for devices offering a session; PORT@BAUD fixes the rate, PORT alone scans the common rates (repeat for more ports)", HelpName = "PORT[@BAUD]" };

    public Option<string[]> Usb { get; } = new("--usb") { Description = "A network interface a USB cable brings up: listen on it while it is up, end its sessions when it goes down (repeat for more)", HelpName = "IFACE" };

    public Option<string[]> ActiveSync { get; } = new("--activesync") { Description = "A network interface a Windows CE / Windows Mobile device brings up on its USB cable (RNDIS): answer it on TCP 990 (needs CAP_NET_BIND_SERVICE), partner through its registry and back it up with nothing installed on it (repeat for more); 'auto': every interface whose driver is rndis_host or cdc_ether, from when it appears until it goes", HelpName = "IFACE|auto" };

    public Option<string[]> ActiveSyncFolder { get; } = new("--activesync-folder") { Description = "A folder on ActiveSync devices to back up besides \\My Documents and the storage cards, e.g. '\\Program Files\\Scanner\\Data' (repeat for more)", HelpName = "PATH" };

    public Option<double> ActiveSyncEvery { get; } = new("--activesync-every") { Description = "Back up an ActiveSync device left in its cradle again this often (an unchanged one costs listings only); 0: once per connection", DefaultValueFactory = _ => DefaultActiveSyncEveryMinutes, HelpName = "MINUTES" };

    public Option<double> KeepaliveTimeout { get; } = new("--keepalive-timeout") { Description = "End a session whose device sent nothing for this long (suspended, cable out; on serial: the line made no progress for this long); every chunk stored so far is kept", DefaultValueFactory = _ => DefaultKeepalive, HelpName = "SECONDS" };

    public Option<double> HandshakeTimeout { get; } = new("--handshake-timeout") { Description = "Drop a connection whose TLS handshake and hello take longer than this (a device that connected and went silent)", DefaultValueFactory = _ => DefaultHandshakeTimeout, HelpName = "SECONDS" };

    public Option<string> Http { get; } = new("--http") { Description = "Address and port of the web dashboard and its JSON API (port 0: any free port; 'off': none). Beyond loopback every request needs the token (cradle host http-token)", DefaultValueFactory = _ => DefaultHttp, HelpName = "ADDR:PORT|off" };

    public Option<string?> RestoreRoot { get; } = new("--restore-root") { Description = "The folder the dashboard restores into (a restore goes into a new folder inside it, never outside, never through a symbolic link); default: restores/ in the host's folder", HelpName = "DIR" };

    public Option<double> OverdueAfter { get; } = new("--overdue-after") { Description = "The dashboard and 'cradle host devices' flag a device overdue when its last backup is older than this", DefaultValueFactory = _ => DefaultOverdueHours, HelpName = "HOURS" };

    public Option<string> Packs { get; }

    public LogOptions Log { get; } = new();

    /// <summary>
    /// <c>--packs</c>: also taken by every host command that opens the store (check, prune,
    /// restore…), which read the same cradle.json key and variable.
    /// </summary>
    public static Option<string> PacksOption() => new("--packs")
    {
        Description = "Where the packs are: a folder (relative to the host's folder) or s3://BUCKET[/PREFIX]?endpoint=URL[&region=R] (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE)",
        DefaultValueFactory = _ => StoreSettings.DefaultPacks,
        HelpName = "DIR|s3://…",
    };

    public static string DefaultHttp => DashboardOptions.DefaultAddress.ToString();

    public static double DefaultActiveSyncEveryMinutes => HostOptions.DefaultActiveSyncBackupEvery.TotalMinutes;

    public static double DefaultOverdueHours => HostReports.DefaultOverdueAfter.TotalHours;

    public static string DefaultListen => $"0.0.0.0:{LinkAddress.DefaultPort}";

    public const double DefaultKeepalive = 15;

    public const double DefaultHandshakeTimeout = 20;

    public IEnumerable<Option> All => [Data, Listen, Name, AutoApprove, AllowReclaim, Serial, Usb, ActiveSync, ActiveSyncFolder, ActiveSyncEvery, KeepaliveTimeout, HandshakeTimeout, Http, RestoreRoot, OverdueAfter, Packs, Catalog, .. Log.All];

    public static Setting PacksSetting(Option<string> packs) =>
        Setting.Single("packs", packs, "give a folder or s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT[&region=REGION] (no credentials here: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_SHARED_CREDENTIALS_FILE)", Setting.Parses(StoreSettings.ValidatePacks), StoreSettings.DefaultPacks);

    public static Setting FolderSetting(Option<string> data) =>
        Setting.Single("data", data, "give a folder", Setting.IsText, CommonOptions.DefaultHostFolder);

    public IReadOnlyList<Setting> Settings =>
    [
        Setting.Single("listen", Listen, "give ADDR:PORT, e.g. 0.0.0.0:5679 (port 0: any free port)", Setting.Parses(v => LinkAddress.Parse(v)), DefaultListen),
        Setting.Single("name", Name, "give the host name devices see", Setting.IsText, null),
        Setting.Single("autoApprove", AutoApprove, "give true or false", Setting.IsBool, "false"),
        Setting.Single("allowReclaim", AllowReclaim, "give true or false", Setting.IsBool, "false"),
        Setting.List("serial", Serial, "give serial ports as PORT or PORT@BAUD, rates 50 to 4000000", Setting.Parses(v => SerialPortSetting.Parse(v))),
        Setting.List("usb", Usb, "give network interface names", Setting.IsText),
        Setting.List("activesync", ActiveSync, "give network interface names", Setting.IsText),
        Setting.List("activesyncFolder", ActiveSyncFolder, "give device folders such as \\My Documents\\Scans", Setting.Parses(v => Cradle.ActiveSync.CePath.NormalizeFolder(v))),
        Setting.Single("activesyncEvery", ActiveSyncEvery, "give 0 (once per connection) or 0.01 to 10080 minutes", v => Setting.IsNumber(0, 7 * 24 * 60)(v) && Setting.ParseNumber(v) is 0 or >= 0.01, DefaultActiveSyncEveryMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("keepaliveTimeout", KeepaliveTimeout, "give 1 to 3600 seconds", Setting.IsNumber(1, 3600), DefaultKeepalive.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("handshakeTimeout", HandshakeTimeout, "give 1 to 3600 seconds", Setting.IsNumber(1, 3600), DefaultHandshakeTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("http", Http, "give ADDR:PORT for the dashboard (port 0: any free port) or 'off'", Setting.Parses(v => DashboardOptions.ParseAddress(v)), DefaultHttp),
        Setting.Single("restoreRoot", RestoreRoot, "give a folder (relative: inside the host's folder)", Setting.IsText, null),
        Setting.Single("overdueAfter", OverdueAfter, "give 0.001 (3.6 seconds) to 8784 hours", Setting.IsNumber(0.001, 24 * 366), DefaultOverdueHours.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        PacksSetting(Packs),
        Setting.Single("catalog", Catalog, "give a PostgreSQL connection string 'Host=H;Port=P;Database=D;Username=U;Password=W' or a URL 'postgres://U:W@H:P/D' (Host is required), or nothing for cradle.db in the folder", StoreSettings.IsValidCatalog, null, StoreSettings.RedactCatalog),
        .. Log.Settings,
    ];

    public EffectiveSettings Load(ParseResult result) => EffectiveSettings.Load(Section, FolderSetting(Data), Settings, result);

    /// <summary>The host's options from the settings; the packs and the catalog are opened apart (<see cref="HostStorage.Apply"/>).</summary>
    public static HostOptions ToHostOptions(EffectiveSettings settings) => new()
    {
        DataFolder = settings.Folder,
        Listen = ResolveListen(settings),
        Name = settings.OptionalText("name"),
        AutoApprove = settings.Flag("autoApprove"),
        AllowReclaim = settings.Flag("allowReclaim"),
        SerialPorts = [.. settings.List("serial").Select(SerialPortSetting.Parse)],
        UsbInterfaces = [.. settings.List("usb")],
        ActiveSyncInterfaces = [.. settings.List("activesync")],
        ActiveSyncFolders = [.. settings.List("activesyncFolder").Select(Cradle.ActiveSync.CePath.NormalizeFolder)],
        ActiveSyncBackupEvery = TimeSpan.FromMinutes(settings.Number("activesyncEvery")),
        Channel = ChannelOptions.ForIdleTimeout(settings.Number("keepaliveTimeout")),
        SerialLink = new Links.Serial.ReliableLinkOptions { DeadAfter = TimeSpan.FromSeconds(settings.Number("keepaliveTimeout")) },
        HandshakeTimeout = TimeSpan.FromSeconds(settings.Number("handshakeTimeout")),
    };

    /// <summary>
    /// The address to listen on. A name (<c>localhost</c>, the machine's own name) is what
    /// <c>host config</c> accepts too, so <c>host run</c> resolves it to an address of its own
    /// (IPv4 first) instead of failing on it; a name that does not resolve is a bad setting.
    /// </summary>
    private static LinkAddress ResolveListen(EffectiveSettings settings)
    {
        var address = LinkAddress.Parse(settings.Text("listen"));
        if (System.Net.IPAddress.TryParse(address.Host, out _))
        {
            return address;
        }

        System.Net.IPAddress[] found;
        try
        {
            found = System.Net.Dns.GetHostAddresses(address.Host);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ArgumentException($"{settings.Source("listen")}: host:listen = '{address}' is not allowed: the name '{address.Host}' does not resolve ({e.Message}); give an address of this machine, e.g. 0.0.0.0:{address.Port} or 127.0.0.1:{address.Port}");
        }

        var chosen = found.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? found.FirstOrDefault()
            ?? throw new ArgumentException($"{settings.Source("listen")}: host:listen = '{address}' is not allowed: the name '{address.Host}' resolves to no address");
        return address with { Host = chosen.ToString() };
    }

    /// <summary>The dashboard's settings; null when <c>--http off</c>.</summary>
    public static DashboardOptions? ToDashboardOptions(EffectiveSettings settings) =>
        DashboardOptions.ParseAddress(settings.Text("http")) is { } address
            ? new DashboardOptions
            {
                Address = address,
                OverdueAfter = TimeSpan.FromHours(settings.Number("overdueAfter")),
                RestoreRoot = settings.OptionalText("restoreRoot") is { } root ? Path.GetFullPath(root, settings.Folder) : null,
            }
            : null;
}
