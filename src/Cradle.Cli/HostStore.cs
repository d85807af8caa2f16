using System.CommandLine;
using Cradle.Cli.Settings;
using Cradle.Store;

namespace Cradle.Cli;

/// <summary>
/// The store an operator's host command works on: <c>--data</c>'s folder and the catalog
/// <c>--catalog</c> names, else CRADLE_HOST__CATALOG, else the folder's cradle.json (the same
/// places <c>cradle host run</c> reads), else <c>cradle.db</c> in the folder.
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

    public static HostStore Open(ParseResult result, Option<string> data, Option<string> catalog)
    {
        var settings = new HostRunOptions(data, catalog).Load(result);
        var database = HostRunOptions.ToCatalog(settings);
        try
        {
            return new HostStore(ChunkStore.Open(settings.Folder, null, database), database);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    public void Dispose() => Database.Dispose();
}
