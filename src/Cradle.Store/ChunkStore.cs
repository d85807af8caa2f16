using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// The host's store: the catalog (by default <c>cradle.db</c> in its folder, the SQLite catalog
/// shared with the partnership registry; or PostgreSQL, see <see cref="CatalogDatabase"/>), the
/// and the packs in an <see cref="IPackStorage"/> (by default <c>packs/</c>
/// in the folder, or an S3 bucket). Cheap to create; every session opens its own
/// <see cref="StoreWriter"/> or <see cref="SnapshotReader"/>, each with its own connection.
/// </summary>
internal sealed class ChunkStore
{
    public const string DatabaseFileName = "cradle.db";

    private ChunkStore(string folder, IPackStorage packs, TimeProvider time, CatalogDatabase database)
    {
        Folder = folder;
        Packs = packs;
        Time = time;
        Database = database;
    }

    public string Folder { get; }

    /// <summary>Where the sealed packs are.</summary>
    public IPackStorage Packs { get; }

    /// <summary>Where the catalog and the partnership registry live.</summary>
    public CatalogDatabase Database { get; }

    /// <summary>The SQLite catalog file; null when the catalog is in PostgreSQL.</summary>
    public string? DatabasePath => Database.FilePath;

    /// <summary>Where a backup's entries wait for its commit (<see cref="TreeBuilder"/>: unnamed files).</summary>
    public string TempFolder => Path.Combine(Folder, "tmp");

    public TimeProvider Time { get; }

    /// <summary>Compression groups recently decompressed by this store's readers.</summary>
    internal GroupCache Groups { get; } = new();

    /// <summary>
    /// Opens the store in <paramref name="folder"/>, creating it when new, and checks (creating or
    /// migrating) the catalog's schema. <paramref name="packs"/>: where the packs are (default:
    /// <c>packs/</c> in the folder). <paramref name="database"/>: the catalog, default the SQLite
    /// file in the folder; the caller keeps it and disposes it after the store's last use.
    /// </summary>
    public static async Task<ChunkStore> OpenAsync(string folder, TimeProvider? time = null, IPackStorage? packs = null, CatalogDatabase? database = null, CancellationToken cancellationToken = default)
    {
        CreatePrivateFolder(folder);
        var full = Path.GetFullPath(folder);
        var store = new ChunkStore(full, packs ?? PackStorage.Open(null, full), time ?? TimeProvider.System, database ?? CatalogDatabase.InFolder(full));

        // Private at rest whatever was there before: the folder, the catalog and its journal,
        // every pack (a --packs folder elsewhere too), the token, the logs.
        store.RepairedModes = PrivateFiles.Enforce(full);
        if (store.Packs is FolderPackStorage { Folder: var packFolder } && !IsUnder(packFolder, full))
        {
            store.RepairedModes += PrivateFiles.Enforce(packFolder);
        }

        using (Catalog.Open(store.Database))
        {
            // Opening creates the schema or refuses an unknown version, before any session starts.
        }

        // A catalog migrated to schema 4 learns who owns the chunks of its older snapshots here,
        // where the packs can be read: before a host answers a single chunk query.
        await OwnershipBackfill.RunAsync(store, cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>Creates the store's folder private when it does not exist (<see cref="PrivateFiles.CreateIfMissing"/>).</summary>
    public static void CreatePrivateFolder(string folder) => PrivateFiles.CreateIfMissing(folder);

    /// <summary>Files and folders whose modes <see cref="OpenAsync"/> had to make private (0 when all were).</summary>
    public int RepairedModes { get; private set; }

    private static bool IsUnder(string path, string folder) =>
        Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Packs the catalog does not name: left by a backup or prune that was interrupted, or,
    /// while a backup runs, its pack not committed yet (so prune deletes them only once every
    /// session that could name them has ended).
    /// </summary>
    public async Task<List<string>> UnnamedPackFilesAsync(Catalog catalog, CancellationToken cancellationToken)
    {
        var named = catalog.ListPacks().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return (await Packs.ListAsync(cancellationToken).ConfigureAwait(false)).Where(n => !named.Contains(n)).ToList();
    }

    public Catalog OpenCatalog() => Catalog.Open(Database);

    /// <summary>Starts a session's writes, under a lease of its own (prune runs beside it).</summary>
    public Task<StoreWriter> BeginWriteAsync(CancellationToken cancellationToken) => BeginWriteAsync(owner: null, cancellationToken);

    /// <summary>
    /// Starts a device's writes: the writer answers and accepts only the chunks
    /// <paramref name="owner"/> owns or sends (<see cref="StoreWriter"/>); null: the host's own
    /// writes, which see every chunk of the store.
    /// </summary>
    public Task<StoreWriter> BeginWriteAsync(DeviceName? owner, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var lease = Lease("backup");
        try
        {
            return Task.FromResult(new StoreWriter(this, OpenCatalog(), lease, owner?.Key));
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>A lease for a session that reads chunks (restore, check, download): prune keeps what it may read.</summary>
    public StoreLease Lease(string kind) => StoreLease.Take(this, kind);

    public SnapshotReader OpenReader() => new(this, OpenCatalog());
}
