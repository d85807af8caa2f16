using System.Data.Common;
using System.Reflection;

// This test reads the metadata of an assembly it references and is never trimmed or AOT-compiled.
#pragma warning disable IL2026, IL2070

namespace Cradle.Store.Tests;

/// <summary>
/// Issue 21: the store's internals stay behind its façade. Every store type is internal — the
/// chunk store, catalog and its database connection, writer, readers, pack storages — and reached
/// only by the store's friends (Cradle.Host and the tests, through InternalsVisibleTo); the host's
/// public API hands out its own types (HostRepository, HostStorage, the rows). The only public
/// types are the exceptions that a public host method can let through (docs/layout.md says why
/// for each). The host's side is HostPublicSurfaceTests (Cradle.Host.Tests); the CLI's is
/// CliSeamTests (Cradle.EndToEnd.Tests).
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Assembly Store = typeof(ChunkStore).Assembly;

    /// <summary>The store's public types, each named with its reason in docs/layout.md.</summary>
    public static readonly string[] AllowedPublic =
    [
        "Cradle.Store.StoreCorruptException",
        "Cradle.Store.CatalogUnavailableException",
    ];

    [Fact]
    public void The_store_exports_only_the_allowed_types()
    {
        var extra = Store.GetExportedTypes().Select(t => t.FullName!).Except(AllowedPublic).Order(StringComparer.Ordinal).ToList();
        Assert.True(extra.Count == 0, $"public but not in the allowed list (make it internal, or add it here and say why in docs/layout.md): {string.Join(", ", extra)}");
        Assert.All(AllowedPublic, name => Assert.True(Store.GetType(name, throwOnError: true)!.IsPublic, $"{name} is listed but no longer public: take it off the list"));
    }

    [Theory]
    [InlineData("Cradle.Store.PackWriter")]
    [InlineData("Cradle.Store.PackFormat")]
    [InlineData("Cradle.Store.PackGroup")]
    [InlineData("Cradle.Store.PackRow")]
    [InlineData("Cradle.Store.ChunkRow")]
    [InlineData("Cradle.Store.SealedPack")]
    [InlineData("Cradle.Store.ChunkOwners")]
    [InlineData("Cradle.Store.MaintenanceLock")]
    // Check, prune and restore into a folder: the host's façade (HostRepository) runs them.
    [InlineData("Cradle.Store.StoreChecker")]
    [InlineData("Cradle.Store.CheckReport")]
    [InlineData("Cradle.Store.CheckProblem")]
    [InlineData("Cradle.Store.AffectedSnapshot")]
    [InlineData("Cradle.Store.Pruner")]
    [InlineData("Cradle.Store.PruneReport")]
    [InlineData("Cradle.Store.RemovedSnapshot")]
    [InlineData("Cradle.Store.RetentionPolicy")]
    [InlineData("Cradle.Store.FolderRestorer")]
    [InlineData("Cradle.Store.FolderRestoreOptions")]
    [InlineData("Cradle.Store.RestoreProgress")]
    [InlineData("Cradle.Store.RestoreTarget")]
    [InlineData("Cradle.Store.RestoreTargetState")]
    // The chunk store, catalog, writer and readers: the host's façade and sessions use them.
    [InlineData("Cradle.Store.ChunkStore")]
    [InlineData("Cradle.Store.Catalog")]
    [InlineData("Cradle.Store.SnapshotInfo")]
    [InlineData("Cradle.Store.SnapshotProblem")]
    [InlineData("Cradle.Store.StoreTotals")]
    [InlineData("Cradle.Store.ChunkLocation")]
    [InlineData("Cradle.Store.NewSnapshot")]
    [InlineData("Cradle.Store.ChunkIds")]
    [InlineData("Cradle.Store.LastCheck")]
    [InlineData("Cradle.Store.StoreLease")]
    [InlineData("Cradle.Store.StoreWriter")]
    [InlineData("Cradle.Store.NewSnapshotRequest")]
    [InlineData("Cradle.Store.UnchangedCandidate")]
    [InlineData("Cradle.Store.CommitOutcome")]
    [InlineData("Cradle.Store.SnapshotTree")]
    [InlineData("Cradle.Store.TreeBuilder")]
    [InlineData("Cradle.Store.SnapshotReader")]
    [InlineData("Cradle.Store.PackEntry")]
    // A full disk never leaves the host's sessions: it becomes the device's disk-full refusal.
    [InlineData("Cradle.Store.StoreFullException")]
    // The catalog's connection and the schema and locking helpers on it (the registry is a friend).
    [InlineData("Cradle.Store.CatalogDatabase")]
    [InlineData("Cradle.Store.DbCommandExtensions")]
    [InlineData("Cradle.Store.SchemaRunner")]
    [InlineData("Cradle.Store.SchemaStep")]
    // Where the packs are: HostStorage opens them from the settings.
    [InlineData("Cradle.Store.IPackStorage")]
    [InlineData("Cradle.Store.IPackHandle")]
    [InlineData("Cradle.Store.FolderPackStorage")]
    [InlineData("Cradle.Store.S3PackStorage")]
    [InlineData("Cradle.Store.S3PackAddress")]
    [InlineData("Cradle.Store.PackStorage")]
    public void A_store_internal_is_not_exported(string name)
    {
        var type = Store.GetType(name, throwOnError: true)!;
        Assert.False(type.IsVisible, $"{name} is public again");
        Assert.DoesNotContain(type, Store.GetExportedTypes());
    }

    [Fact]
    public void No_exported_type_hands_out_or_takes_a_database_connection()
    {
        const BindingFlags Everyone = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;
        static bool Database(Type t) => typeof(DbConnection).IsAssignableFrom(t) || typeof(DbTransaction).IsAssignableFrom(t);
        var leaks = Store.GetExportedTypes()
            .SelectMany(t => t.GetProperties(Everyone).Where(p => Database(p.PropertyType)).Select(p => $"{t.Name}.{p.Name}")
                .Concat(t.GetMethods(Everyone).Where(m => Database(m.ReturnType) || m.GetParameters().Any(p => Database(p.ParameterType))).Select(m => $"{t.Name}.{m.Name}()")))
            .ToList();
        Assert.Empty(leaks);
    }
}
