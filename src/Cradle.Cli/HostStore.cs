using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Store;

namespace Cradle.Cli;

/// <summary>
/// The store an operator's host command works on: <c>--data</c>'s folder, the catalog
/// <c>--catalog</c> names and the packs <c>--packs</c> names, else their CRADLE_HOST__ variables,
/// else the folder's cradle.json (the same places <c>cradle host run</c> reads), else
/// <c>cradle.db</c> and <c>packs/</c> in the folder. Checked before anything starts.
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

    public static Task<HostStore> OpenAsync(ParseResult result, Option<string> data, Option<string> catalog, Option<string> packs, CancellationToken cancellationToken) =>
        OpenAsync(new HostRunOptions(data, catalog, packs).Load(result), cancellationToken);

    public static async Task<HostStore> OpenAsync(EffectiveSettings settings, CancellationToken cancellationToken)
    {
        var packs = await OpenPacksAsync(settings, cancellationToken).ConfigureAwait(false);
        var database = HostRunOptions.ToCatalog(settings);
        try
        {
            return new HostStore(ChunkStore.Open(settings.Folder, packs: packs, database: database), database);
        }
        catch
        {
            database.Dispose();
            throw;
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
