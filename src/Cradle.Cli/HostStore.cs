using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Host;

namespace Cradle.Cli;

/// <summary>
/// The options an operator's host command takes to find the store: <c>--data</c> always,
/// <c>--catalog</c> (hidden where the command only decides something, as <c>approve</c>) and
/// <c>--packs</c> only where pack data is read.
/// </summary>
internal sealed class StoreOptions
{
    public StoreOptions(bool packs, bool showCatalog = true)
    {
        Packs = packs ? HostRunOptions.PacksOption() : null;
        Catalog.Hidden = !showCatalog;
    }

    public Option<string> Data { get; } = CommonOptions.Data();

    public Option<string> Catalog { get; } = CommonOptions.Catalog();

    /// <summary>Null for a command that reads no pack.</summary>
    public Option<string>? Packs { get; }

    public IEnumerable<Option> All => Packs is null ? [Data, Catalog] : [Data, Packs, Catalog];
}

/// <summary>
/// The store an operator's host command works on: <c>--data</c>'s folder, the catalog
/// <c>--catalog</c> names and the packs <c>--packs</c> names, else their CRADLE_HOST__ variables,
/// else the folder's cradle.json (the same places <c>cradle host run</c> reads), else
/// <c>cradle.db</c> and <c>packs/</c> in the folder. Checked before anything starts. Only
/// <c>cradle host run</c> makes a new store: these commands refuse a folder (or catalog) that
/// holds none, so a mistyped <c>--data</c> is an error, not an empty host. The store is the
/// host's <see cref="HostRepository"/>: the CLI never reaches into the store itself.
/// </summary>
internal static class HostStore
{
    public static Task<HostRepository> OpenAsync(ParseResult result, StoreOptions options, CancellationToken cancellationToken) =>
        OpenAsync(result, options.Data, options.Catalog, options.Packs, cancellationToken);

    /// <summary>The store these options name; <paramref name="packs"/> null: the command reads no pack.</summary>
    public static Task<HostRepository> OpenAsync(ParseResult result, Option<string> data, Option<string> catalog, Option<string>? packs, CancellationToken cancellationToken) =>
        HostRepository.OpenAsync(Location(new HostRunOptions(data, catalog, packs ?? HostRunOptions.PacksOption()).Load(result)), packs is not null, cancellationToken);

    /// <summary>Where the settings put the store, and where each name came from (for the error about a store that is not there).</summary>
    public static StoreLocation Location(EffectiveSettings settings) => new(
        settings.Folder,
        settings.Text("packs"),
        settings.OptionalText("catalog"),
        settings.Source("data") == EffectiveSettings.DefaultSource ? "the default folder" : $"--data (from {settings.Source("data")})",
        $"--catalog (from {settings.Source("catalog")})");
}
