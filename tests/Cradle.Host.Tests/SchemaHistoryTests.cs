using System.Reflection;
using Cradle.Content;
using Cradle.Store;
using Cradle.Tests;
using Microsoft.Data.Sqlite;

namespace Cradle.Host.Tests;

/// <summary>
/// The one schema runner (<see cref="SchemaRunner"/>) opens what earlier builds wrote: the host
/// database main (016780e) makes, and a registry of schema 1 from the first build, both kept
/// in tests/fixtures/main-016780e as the SQL those builds left; and it migrates in one
/// transaction, refusing what it does not know.
/// </summary>
public sealed class SchemaHistoryTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task The_host_database_main_made_opens_with_its_versions_and_data_unchanged()
    {
        var folder = _temp["host"];
        var file = Load("cradle.sql", Path.Combine(folder, ChunkStore.DatabaseFileName));
        using var database = CatalogDatabase.SqliteFile(file);
        var store = await ChunkStore.OpenAsync(folder, database: database);
        using (var catalog = store.OpenCatalog())
        {
            Assert.Equal([1L, 2L], catalog.ListSnapshots().Select(s => s.Id));
            Assert.Equal(2, catalog.Totals().Packs);
        }

        using (var registry = PartnershipRegistry.Open(database))
        {
            var partnership = Assert.Single(registry.List());
            Assert.Equal("MX7-DEMO", partnership.Name);
            Assert.True(partnership.Confirmed);
        }

        Assert.Equal((Catalog.SchemaVersion.ToString(), PartnershipRegistry.SchemaVersion.ToString()), Versions(file));
        Assert.Equal(5, Catalog.SchemaVersion); // main's catalog: nothing to migrate, so nothing changed
        Assert.Equal(4, PartnershipRegistry.SchemaVersion);
    }

    [Fact]
    public void A_registry_of_schema_1_takes_every_step_and_keeps_its_rows()
    {
        var file = Load("registry-1.sql", _temp["old.db"]);
        using var database = CatalogDatabase.SqliteFile(file);
        using (var registry = PartnershipRegistry.Open(database))
        {
            var partnership = Assert.Single(registry.List());
            Assert.Equal(("MX7-Old", 7u, "tcp"), (partnership.Name, partnership.Number, partnership.LastLink));
            Assert.True(partnership.Confirmed); // made before confirmation existed: migrates confirmed (P5/P7 as it was)
            Assert.Null(partnership.RecoveryVerifier);
            Assert.Equal(PendingState.Waiting, registry.GetPending("123456")!.State);
        }

        Assert.Equal(PartnershipRegistry.SchemaVersion.ToString(), Versions(file).Registry);
        using var connection = Open(file);
        Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'restore_grants'"));
        Assert.Equal(2L, Scalar(connection, "SELECT COUNT(*) FROM pragma_table_info('pending') WHERE name IN ('outcome', 'ended_ms')"));
    }

    [Fact]
    public void A_step_that_fails_leaves_the_schema_as_it_was_found()
    {
        var file = Load("registry-1.sql", _temp["old.db"]);
        using var database = CatalogDatabase.SqliteFile(file);
        var runner = new SchemaRunner("test registry", PartnershipRegistry.SchemaKey, 3, (_, _) => throw new InvalidOperationException("not called: the database exists"),
        [
            new(2, (connection, tx) => Execute(connection, tx, "ALTER TABLE partnerships ADD COLUMN step_two TEXT")),
            new(3, (_, _) => throw new InvalidOperationException("step 3 broke")),
        ]);
        using (var connection = database.OpenConnection())
        {
            Assert.Throws<InvalidOperationException>(() => runner.Ensure(database, connection));
        }

        Assert.Equal("1", Versions(file).Registry);
        using var check = Open(file);
        Assert.Equal(0L, Scalar(check, "SELECT COUNT(*) FROM pragma_table_info('partnerships') WHERE name = 'step_two'"));
    }

    [Theory]
    [InlineData("5")]
    [InlineData("0")]
    [InlineData("two")]
    public void A_version_it_does_not_know_is_refused_by_name_and_nothing_is_written(string version)
    {
        var file = Load("registry-1.sql", _temp["old.db"]);
        using (var connection = Open(file))
        {
            Assert.Equal(1, Execute(connection, null, $"UPDATE meta SET value = '{version}' WHERE key = 'registry_schema'"));
        }

        using var database = CatalogDatabase.SqliteFile(file);
        var e = Assert.Throws<StoreFormatException>(() => PartnershipRegistry.Open(database));
        Assert.Equal($"the partnership registry has schema version {version}; this build knows versions 1 to {PartnershipRegistry.SchemaVersion} only", e.Message);
        Assert.Equal(version, Versions(file).Registry);
    }

    [Fact]
    public void Steps_out_of_order_are_a_programming_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new SchemaRunner("x", "x_schema", 1, (_, _) => { }, [new(3, (_, _) => { })]));
        Assert.Contains("step 0 is version 3", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Makes a SQLite file at <paramref name="path"/> from a fixture's SQL.</summary>
    private static string Load(string fixture, string path)
    {
        var root = typeof(SchemaHistoryTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FixturesFolder").Value!;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = Open(path);
        Execute(connection, null, File.ReadAllText(Path.Combine(root, "main-016780e", fixture)));
        return path;
    }

    private static (string? Catalog, string? Registry) Versions(string file)
    {
        using var connection = Open(file);
        return ((string?)Scalar(connection, "SELECT value FROM meta WHERE key = 'catalog_schema'"), (string?)Scalar(connection, "SELECT value FROM meta WHERE key = 'registry_schema'"));
    }

    private static SqliteConnection Open(string file)
    {
        var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static int Execute(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }
}
