using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Content;
using Cradle.Store;

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
/// holds none, so a mistyped <c>--data</c> is an error, not an empty host.
/// </summary>
internal sealed class HostStore : IDisposable
{
    private HostStore(ChunkStore store, CatalogDatabase database)
    {
        Store = store;
        Database = database;
    }

    public ChunkStore Store { get; }

    public CatalogDatabase Database { get; }

    public static Task<HostStore> OpenAsync(ParseResult result, StoreOptions options, CancellationToken cancellationToken) =>
        OpenAsync(result, options.Data, options.Catalog, options.Packs, cancellationToken);

    /// <summary>The store these options name; <paramref name="packs"/> null: the command reads no pack.</summary>
    public static Task<HostStore> OpenAsync(ParseResult result, Option<string> data, Option<string> catalog, Option<string>? packs, CancellationToken cancellationToken) =>
        OpenAsync(new HostRunOptions(data, catalog, packs ?? HostRunOptions.PacksOption()).Load(result), packs is not null, cancellationToken);

    /// <summary>The settings' store; its packs are looked at (an S3 bucket asked once) only when <paramref name="readsPacks"/>.</summary>
    public static async Task<HostStore> OpenAsync(EffectiveSettings settings, bool readsPacks, CancellationToken cancellationToken)
    {
        var database = HostRunOptions.ToCatalog(settings);
        try
        {
            RequireExisting(settings, database);
            var packs = readsPacks ? await OpenPacksAsync(settings, cancellationToken).ConfigureAwait(false) : PackStorage.Open(null, settings.Folder);
            return new HostStore(await ChunkStore.OpenAsync(settings.Folder, packs: packs, database: database, cancellationToken: cancellationToken).ConfigureAwait(false), database);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>Refuses a folder or catalog that holds no store yet, naming it and where the name came from.</summary>
    public static void RequireExisting(EffectiveSettings settings, CatalogDatabase database)
    {
        if (database.FilePath is { } file)
        {
            if (!database.HoldsCatalog())
            {
                var where = settings.Source("data") == EffectiveSettings.DefaultSource ? "the default folder" : $"--data (from {settings.Source("data")})";
                throw new ArgumentException($"{settings.Folder} holds no Cradle host: there is no {Path.GetFileName(file)} in it; check {where}. Only 'cradle host run --data {settings.Folder}' makes a new one");
            }
        }
        else if (!database.HoldsCatalog())
        {
            throw new ArgumentException($"the catalog {database.Description} holds no Cradle host yet; check --catalog (from {settings.Source("catalog")}). Only 'cradle host run' makes a new one");
        }
    }

    /// <summary>The pack storage; an S3 bucket is asked once, so a wrong address or key fails now.</summary>
    public static async Task<IPackStorage> OpenPacksAsync(EffectiveSettings settings, CancellationToken cancellationToken)
    {
        // A host-side process writes a store: whatever it creates is its user's alone (umask 077).
        PrivateFiles.ForThisProcess();
        ChunkStore.CreatePrivateFolder(settings.Folder);
        var packs = PackStorage.Open(settings.Text("packs"), settings.Folder);
        if (packs is S3PackStorage s3)
        {
            await s3.CheckBucketAsync(cancellationToken).ConfigureAwait(false);
        }

        return packs;
    }

    public void Dispose() => Database.Dispose();
}
