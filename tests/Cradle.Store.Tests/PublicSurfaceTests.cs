using System.Data.Common;
using System.Reflection;

// This test reads the metadata of an assembly it references and is never trimmed or AOT-compiled.
#pragma warning disable IL2026, IL2070

namespace Cradle.Store.Tests;

/// <summary>
/// Issue 21: the store's internals stay behind its façade. The pack writer and format, the rows
/// of maintenance, the maintenance lock and the catalog's database connection are internal: the
/// host and the CLI reach packs and the catalog only through the store's own operations; check,
/// prune and restore into a folder only through the host's façade (the CLI's side of it is
/// CliSeamTests in Cradle.EndToEnd.Tests).
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Assembly Store = typeof(ChunkStore).Assembly;

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
    public void A_store_internal_is_not_exported(string name)
    {
        var type = Store.GetType(name, throwOnError: true)!;
        Assert.False(type.IsVisible, $"{name} is public again");
        Assert.DoesNotContain(type, Store.GetExportedTypes());
    }

    [Fact]
    public void No_exported_type_hands_out_a_database_connection()
    {
        var leaks = Store.GetExportedTypes()
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Where(p => typeof(DbConnection).IsAssignableFrom(p.PropertyType)).Select(p => $"{t.Name}.{p.Name}"))
            .ToList();
        Assert.Empty(leaks);
    }
}
