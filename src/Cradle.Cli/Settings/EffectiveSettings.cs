using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace Cradle.Cli.Settings;

/// <summary>One setting's effective value and where it came from.</summary>
internal sealed record SettingValue(Setting Setting, string Key, string Environment, IReadOnlyList<string> Values, string Source);

/// <summary>
/// The settings of one side (<c>host</c> or <c>device</c>) as the command will run with them:
/// command line over environment (<c>CRADLE_HOST__LISTEN</c>) over the folder's <c>cradle.json</c>
/// over the default. Read through Microsoft.Extensions.Configuration's providers, key by key (no
/// reflection binding: the executable is native AOT), and checked before anything starts.
/// </summary>
internal sealed class EffectiveSettings
{
    /// <summary>The settings file in the host's folder and in the device's state folder.</summary>
    public const string FileName = "cradle.json";

    public const string EnvironmentPrefix = "CRADLE_";

    public const string DefaultSource = "default";

    private readonly Dictionary<string, SettingValue> _byKey;

    private EffectiveSettings(string section, string folder, string file, bool fileExists, List<SettingValue> values)
    {
        Section = section;
        Folder = folder;
        File = file;
        FileExists = fileExists;
        Values = values;
        _byKey = values.ToDictionary(v => v.Setting.Key, StringComparer.OrdinalIgnoreCase);
    }

    public string Section { get; }

    public string Folder { get; }

    public string File { get; }

    public bool FileExists { get; }

    public IReadOnlyList<SettingValue> Values { get; }

    /// <summary>The environment variable for a key: <c>CRADLE_HOST__KEEPALIVETIMEOUT</c> (the configuration's <c>__</c> for <c>:</c>).</summary>
    public static string EnvironmentVariable(string section, string key) => $"{EnvironmentPrefix}{section}__{key}".ToUpperInvariant();

    public string Text(string key) => Get(key).Values[0];

    public string? OptionalText(string key) => Get(key).Values is [var v, ..] ? v : null;

    public bool Flag(string key) => Setting.ParseBool(Text(key));

    public double Number(string key) => Setting.ParseNumber(Text(key));

    public long Integer(string key) => Setting.ParseInteger(Text(key));

    public IReadOnlyList<string> List(string key) => Get(key).Values;

    /// <summary>Where a key's value came from: a flag, an environment variable, the file's path, or "default".</summary>
    public string Source(string key) => Get(key).Source;

    private SettingValue Get(string key) => _byKey.TryGetValue(key, out var v) ? v : throw new InvalidOperationException($"no setting {Section}:{key}");

    /// <summary>
    /// Resolves every setting. <paramref name="folder"/> names the folder that holds the file (it comes
    /// from the command line, the environment or its default, never from the file inside it).
    /// </summary>
    public static EffectiveSettings Load(string section, Setting folder, IReadOnlyList<Setting> settings, ParseResult result)
    {
        var environment = (Build(b => b.AddEnvironmentVariables(EnvironmentPrefix), "the environment"), "environment");
        var folderValue = Resolve(section, folder, [environment], result) ?? throw new InvalidOperationException($"{folder.Key} has no default");
        var folderPath = Path.GetFullPath(folderValue.Values[0]);
        var file = Path.Combine(folderPath, FileName);
        var fileExists = System.IO.File.Exists(file);

        var sources = new List<(IConfigurationProvider Provider, string Label)>();
        if (fileExists)
        {
            sources.Add((Build(b => b.AddJsonFile(file, optional: false, reloadOnChange: false), file), file));
        }

        sources.Add(environment);
        CheckKeys(section, folder, settings, sources);

        var values = new List<SettingValue> { folderValue with { Values = [folderPath] } };
        foreach (var setting in settings)
        {
            values.Add(Resolve(section, setting, sources, result) ?? new SettingValue(setting, Key(section, setting), EnvironmentVariable(section, setting.Key), [], DefaultSource));
        }

        return new EffectiveSettings(section, folderPath, file, fileExists, values);
    }

    private static string Key(string section, Setting setting) => $"{section}:{setting.Key}";

    /// <summary>The value from the strongest source that has one, checked; null when none has one and there is no default.</summary>
    private static SettingValue? Resolve(string section, Setting setting, List<(IConfigurationProvider Provider, string Label)> sources, ParseResult result)
    {
        var key = Key(section, setting);
        var env = EnvironmentVariable(section, setting.Key);
        SettingValue? found = null;
        if (setting.CommandLine(result) is { } given)
        {
            found = new SettingValue(setting, key, env, given.Values, given.Flag);
        }
        else
        {
            for (var i = sources.Count - 1; i >= 0 && found is null; i--)
            {
                var (provider, label) = sources[i];
                if (setting.Reader is { } read)
                {
                    if (read(provider, key) is { } structured)
                    {
                        found = new SettingValue(setting, key, env, structured, label == "environment" ? env : label);
                    }
                }
                else if (TryRead(provider, key, setting.IsList, out var values))
                {
                    found = new SettingValue(setting, key, env, values, label == "environment" ? env : label);
                }
            }
        }

        found ??= setting.Default.Count > 0 ? new SettingValue(setting, key, env, setting.Default, DefaultSource) : null;
        foreach (var value in found?.Values ?? [])
        {
            if (!setting.IsValid(value))
            {
                throw new ArgumentException($"{found!.Source}: {key} = '{setting.Show(value)}' is not allowed: {setting.Allowed}");
            }
        }

        return found;
    }

    private static bool TryRead(IConfigurationProvider provider, string key, bool isList, out IReadOnlyList<string> values)
    {
        if (provider.TryGet(key, out var text) && !string.IsNullOrEmpty(text))
        {
            values = isList ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [text];
            return true;
        }

        var children = provider.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (isList && children.Count > 0)
        {
            values = [.. children
                .OrderBy(c => int.TryParse(c, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue)
                .Select(c => provider.TryGet($"{key}:{c}", out var v) ? v ?? "" : "")
                .Where(v => v.Length > 0)];
            return true;
        }

        values = [];
        return false;
    }

    /// <summary>A misspelt key would be silently ignored: refuse it, naming the keys there are.</summary>
    private static void CheckKeys(string section, Setting folder, IReadOnlyList<Setting> settings, List<(IConfigurationProvider Provider, string Label)> sources)
    {
        var known = settings.Select(s => s.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var knownText = string.Join(", ", settings.Select(s => s.Key));
        foreach (var (provider, label) in sources)
        {
            var isFile = label != "environment";
            if (isFile)
            {
                foreach (var top in provider.GetChildKeys([], null).Distinct(StringComparer.OrdinalIgnoreCase))
                {
                    if (!string.Equals(top, section, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new ArgumentException($"{label}: '{top}' is not a section of this file; it holds one object, \"{section}\", with the keys {knownText}");
                    }
                }
            }

            foreach (var child in provider.GetChildKeys([], section).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (known.Contains(child) || (!isFile && string.Equals(child, folder.Key, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                var where = isFile ? label : EnvironmentVariable(section, child);
                var why = string.Equals(child, folder.Key, StringComparison.OrdinalIgnoreCase)
                    ? $"the folder is where this file lives: give it with --{folder.Key} or {EnvironmentVariable(section, folder.Key)}"
                    : $"the keys are {knownText}";
                throw new ArgumentException($"{where}: {section}:{child} is not a setting; {why}");
            }
        }
    }

    private static IConfigurationProvider Build(Action<IConfigurationBuilder> add, string label)
    {
        var builder = new ConfigurationBuilder();
        add(builder);
        try
        {
            return builder.Build().Providers.Single();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new ArgumentException($"{label}: not valid JSON: {e.GetBaseException().Message}", e);
        }
    }
}
