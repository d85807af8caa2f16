using Cradle.Content;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// Where a host's store is, as the operator's settings name it: the folder, the packs
/// (<c>--packs</c>: a folder or an S3 bucket; null: <c>packs/</c> in the folder) and the catalog
/// (<c>--catalog</c>: null for <c>cradle.db</c> in the folder). <paramref name="FolderOrigin"/>
/// and <paramref name="CatalogOrigin"/> say where the names came from, in the words an error
/// about a missing store tells the operator to check.
/// </summary>
public sealed record StoreLocation(string Folder, string? Packs = null, string? Catalog = null, string FolderOrigin = "the folder", string CatalogOrigin = "the catalog");

/// <summary>
/// The settings of a host's store the CLI checks before anything starts: the pack and catalog
/// settings are validated and redacted here, by the store's own rules, so the CLI names no store type.
/// </summary>
public static class StoreSettings
{
    /// <summary>The packs' folder inside the host's folder when <c>--packs</c> is not given.</summary>
    public const string DefaultPacks = PackStorage.DefaultFolder;

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with a <c>--packs</c> value.</summary>
    public static void ValidatePacks(string value) => PackStorage.Validate(value);

    /// <summary>True for an <c>s3://</c> packs setting (a bucket, not a folder).</summary>
    public static bool IsS3(string packs) => S3PackAddress.IsS3(packs);

    /// <summary>True for a catalog setting the store can open (a PostgreSQL connection string or URL).</summary>
    public static bool IsValidCatalog(string setting) => CatalogDatabase.IsValidSetting(setting);

    /// <summary>The catalog setting with its password hidden, for output and logs.</summary>
    public static string RedactCatalog(string setting) => CatalogDatabase.Redact(setting);
}

/// <summary>
/// The packs and the catalog a running host uses, opened from a <see cref="StoreLocation"/> before
/// the service starts: an S3 bucket is asked once, so a wrong address or key fails now. Disposing
/// it closes the catalog: dispose it after the service.
/// </summary>
public sealed class HostStorage : IDisposable
{
    private readonly IPackStorage _packs;
    private readonly CatalogDatabase _catalog;

    private HostStorage(IPackStorage packs, CatalogDatabase catalog)
    {
        _packs = packs;
        _catalog = catalog;
    }

    /// <summary>Where the packs are when they are not a folder (an S3 bucket's address); null for a folder.</summary>
    public string? RemotePacks => _packs is FolderPackStorage ? null : _packs.Location;

    /// <summary>The catalog in words, its password hidden.</summary>
    public string CatalogDescription => _catalog.Description;

    /// <summary>Opens the packs (asking an S3 bucket once) and the catalog.</summary>
    public static async Task<HostStorage> OpenAsync(StoreLocation location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        var packs = await OpenPacksAsync(location, cancellationToken).ConfigureAwait(false);
        return new HostStorage(packs, CatalogDatabase.Open(location.Catalog, location.Folder));
    }

    /// <summary>The host's options with these packs and this catalog.</summary>
    public HostOptions Apply(HostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { Packs = _packs, Catalog = _catalog };
    }

    /// <summary>The pack storage; an S3 bucket is asked once, so a wrong address or key fails now.</summary>
    internal static async Task<IPackStorage> OpenPacksAsync(StoreLocation location, CancellationToken cancellationToken)
    {
        // A host-side process writes a store: whatever it creates is its user's alone (umask 077).
        PrivateFiles.ForThisProcess();
        ChunkStore.CreatePrivateFolder(location.Folder);
        var packs = PackStorage.Open(location.Packs, location.Folder);
        if (packs is S3PackStorage s3)
        {
            await s3.CheckBucketAsync(cancellationToken).ConfigureAwait(false);
        }

        return packs;
    }

    public void Dispose() => _catalog.Dispose();
}
