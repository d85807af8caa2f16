using System.CommandLine;
using Cradle.Device;
using Cradle.Links;
using Cradle.Links.Serial;

namespace Cradle.Cli.Settings;

/// <summary>
/// The flags of <c>cradle device connect</c>, each with its key in the state folder's <c>cradle.json</c>
/// and its <c>CRADLE_DEVICE__…</c> variable. <c>cradle device config</c> takes the same flags.
/// </summary>
internal sealed class DeviceConnectOptions
{
    public const string Section = "device";

    public const double DefaultInterval = 5;

    public const double DefaultKeepalive = 15;

    public const double DefaultConnectTimeout = 15;

    public const double DefaultOfferTimeout = 300;

    public Option<string> State { get; } = CommonOptions.State();

    public RouteOptions Route { get; } = new();

    public Option<bool> Once { get; } = new("--once") { Description = "Back up once and disconnect; exit 0 only if the backup was committed" };

    public Option<double> Interval { get; } = new("--interval") { Description = "While connected, seconds between checks for changed files", DefaultValueFactory = _ => DefaultInterval, HelpName = "SECONDS" };

    public Option<double> KeepaliveTimeout { get; } = new("--keepalive-timeout") { Description = "Treat the host as gone when it sent nothing for this long (on serial: when the line made no progress for this long), and reconnect", DefaultValueFactory = _ => DefaultKeepalive, HelpName = "SECONDS" };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout") { Description = "Give up a connection whose TCP connect or TLS handshake takes longer than this (the host does not answer); link failure, exit 4, the agent tries again", DefaultValueFactory = _ => DefaultConnectTimeout, HelpName = "SECONDS" };

    public Option<double> OfferTimeout { get; } = new("--offer-timeout") { Description = "Serial: how long to offer a session before giving up when no host answers (the agent then offers again)", DefaultValueFactory = _ => DefaultOfferTimeout, HelpName = "SECONDS" };

    public Option<string?> AcceptNewHost { get; } = new("--accept-new-host") { Description = "Accept a new network host whose code is CODE (the one both screens show; a script runs connect once to learn it, then again with it); 'any' accepts whichever host answers (lab setups only)", HelpName = "CODE" };

    public Option<bool> Guest { get; } = new("--guest") { Description = $"Connect as a guest: no partnership, no backup, nothing stored on the host; shows that the host serves this device (restore needs its operator's consent: {DeviceCommandLine.Of("restore")})" };

    public LogOptions Log { get; } = new();

    public IEnumerable<Option> All => [State, Once, Interval, KeepaliveTimeout, ConnectTimeout, OfferTimeout, Guest, AcceptNewHost, .. Route.All, .. Log.All];

    public static Setting FolderSetting(Option<string> state) =>
        Setting.Single("state", state, "give a folder", Setting.IsText, CommonOptions.DefaultDeviceFolder);

    public IReadOnlyList<Setting> Settings =>
    [
        Setting.Single("host", Route.Host, "give the host's ADDR:PORT, e.g. 192.168.1.10:5679", Setting.Parses(v => LinkAddress.Parse(v)), null),
        Setting.Single("serial", Route.Serial, "give a serial port, e.g. /dev/ttyS1", Setting.IsText, null),
        Setting.Single("baud", Route.Baud, "give a rate between 50 and 4000000", Setting.IsInteger(50, 4_000_000), SerialLink.DefaultBaud.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("usb", Route.Usb, "give the USB cable's network interface, e.g. usb0", Setting.IsText, null),
        Setting.Single("once", Once, "give true or false", Setting.IsBool, "false"),
        Setting.Single("interval", Interval, "give 0.1 to 86400 seconds", Setting.IsNumber(0.1, 86400), DefaultInterval.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("keepaliveTimeout", KeepaliveTimeout, "give 1 to 3600 seconds", Setting.IsNumber(1, 3600), DefaultKeepalive.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("connectTimeout", ConnectTimeout, "give 1 to 3600 seconds", Setting.IsNumber(1, 3600), DefaultConnectTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("offerTimeout", OfferTimeout, "give 1 to 86400 seconds", Setting.IsNumber(1, 86400), DefaultOfferTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Setting.Single("guest", Guest, "give true or false", Setting.IsBool, "false"),
        Setting.Single("acceptNewHost", AcceptNewHost, "give the six-digit code the new host shows, or 'any'", v => v == Device.DeviceOptions.AnyHost || (v.Length == 6 && v.All(char.IsAsciiDigit)), null),
        Setting.FileList("folders", "give data folders as paths, or as {\"path\": DIR, \"exclude\": [PATTERN, ...]} (gitignore-style patterns)", DataFolderSetting.IsValid, DataFolderSetting.Show, DataFolderSetting.Read),
        Setting.FileList("exclude", "give gitignore-style patterns such as \"*.tmp\", \"cache/\", \"/exports/old\"", p => ExcludeRules.Problem(p) is null),
        .. Log.Settings,
    ];

    public EffectiveSettings Load(ParseResult result) => EffectiveSettings.Load(Section, FolderSetting(State), Settings, result);

    /// <summary>
    /// The link. host, serial and usb name one route together, so the strongest source that names
    /// any of them names all: <c>--serial</c> on the command line is not mixed with a file's host.
    /// </summary>
    public static HostRoute ToRoute(EffectiveSettings settings)
    {
        string[] keys = ["host", "serial", "usb"];
        var strongest = keys.Max(k => Rank(settings.Source(k)));
        string? Pick(string key) => Rank(settings.Source(key)) == strongest ? settings.OptionalText(key) : null;
        return RouteOptions.Parse(Pick("host"), Pick("serial"), Pick("usb"), (int)settings.Integer("baud"));
    }

    /// <summary>
    /// How the device connects: the link's timeouts (the keepalive timeout also bounds how long a
    /// serial line may make no progress); the data folders and exclude patterns of cradle.json or
    /// the environment, when given, stand in for the state folder's (<c>cradle device folders</c>).
    /// </summary>
    public static DeviceOptions ToDeviceOptions(EffectiveSettings settings)
    {
        var keepalive = settings.Number("keepaliveTimeout");
        return new DeviceOptions
        {
            Channel = ChannelOptions.ForIdleTimeout(keepalive),
            SerialLink = new ReliableLinkOptions { DeadAfter = TimeSpan.FromSeconds(keepalive) },
            ConnectTimeout = TimeSpan.FromSeconds(settings.Number("connectTimeout")),
            SerialOfferTimeout = TimeSpan.FromSeconds(settings.Number("offerTimeout")),
            Folders = settings.Source("folders") == EffectiveSettings.DefaultSource ? null : DeviceState.Label(settings.List("folders").Select(DataFolderSetting.Decode)),
            Exclude = settings.Source("exclude") == EffectiveSettings.DefaultSource ? null : settings.List("exclude"),
            AcceptNewHost = settings.OptionalText("acceptNewHost"),
        };
    }

    private static int Rank(string source) => source switch
    {
        EffectiveSettings.DefaultSource => 0,
        _ when source.StartsWith("--", StringComparison.Ordinal) => 3,
        _ when source.StartsWith(EffectiveSettings.EnvironmentPrefix, StringComparison.Ordinal) => 2,
        _ => 1,
    };
}

/// <summary>
/// The <c>folders</c> setting's items: a path, or an object with a path and its own exclude
/// patterns, kept as one text (the path, then each pattern, separated by NUL, which neither may hold).
/// </summary>
internal static class DataFolderSetting
{
    private const char Separator = '\0';

    public static (string Path, List<string>? Exclude) Decode(string item)
    {
        var parts = item.Split(Separator);
        return (parts[0], parts.Length > 1 ? [.. parts[1..]] : null);
    }

    public static bool IsValid(string item)
    {
        var (path, exclude) = Decode(item);
        return Setting.IsText(path) && (exclude ?? []).All(p => ExcludeRules.Problem(p) is null);
    }

    public static string Show(string item)
    {
        var (path, exclude) = Decode(item);
        return exclude is null ? path : $"{path} (exclude {string.Join(", ", exclude)})";
    }

    /// <summary>The items under <paramref name="key"/>: a JSON array of paths or objects, or one comma-separated value (a variable); null when there are none.</summary>
    public static IReadOnlyList<string>? Read(Microsoft.Extensions.Configuration.IConfigurationProvider provider, string key)
    {
        if (provider.TryGet(key, out var text) && !string.IsNullOrEmpty(text))
        {
            return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        var children = Children(provider, key);
        if (children.Count == 0)
        {
            return null;
        }

        var items = new List<string>();
        foreach (var child in children)
        {
            var at = $"{key}:{child}";
            if (provider.TryGet(at, out var path) && !string.IsNullOrEmpty(path))
            {
                items.Add(path);
                continue;
            }

            var unknown = provider.GetChildKeys([], at).FirstOrDefault(k => !k.Equals("path", StringComparison.OrdinalIgnoreCase) && !k.Equals("exclude", StringComparison.OrdinalIgnoreCase));
            if (unknown is not null)
            {
                throw new ArgumentException($"{key}:{child}: '{unknown}' is not a key of a data folder; it has \"path\" and \"exclude\"");
            }

            provider.TryGet($"{at}:path", out var objectPath);
            var patterns = Children(provider, $"{at}:exclude").Select(c => provider.TryGet($"{at}:exclude:{c}", out var p) ? p ?? "" : "");
            items.Add(string.Join(Separator, [objectPath ?? "", .. patterns]));
        }

        return items;
    }

    private static List<string> Children(Microsoft.Extensions.Configuration.IConfigurationProvider provider, string key) =>
        [.. provider.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase)
            .OrderBy(c => int.TryParse(c, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue)];
}
