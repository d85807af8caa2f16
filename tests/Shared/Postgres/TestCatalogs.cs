using Cradle.Store;

namespace Cradle.Tests;

/// <summary>The catalog engines the store tests run on.</summary>
public enum CatalogKind
{
    /// <summary>cradle.db in the store's folder (the default).</summary>
    Sqlite,

    /// <summary>A fresh schema in the test run's PostgreSQL cluster (tests/postgres.sh).</summary>
    Postgres,
}

internal static class TestCatalogs
{
    /// <summary>A new, empty catalog database of <paramref name="kind"/> for a store in <paramref name="folder"/>.</summary>
    public static CatalogDatabase Create(CatalogKind kind, string folder) => CatalogDatabase.Open(NewSetting(kind), folder);

    /// <summary>
    /// The <c>--catalog</c> setting of a new, empty catalog: empty for SQLite (cradle.db in the
    /// folder), else the connection string of a fresh PostgreSQL schema. Open it more than once to act
    /// as several hosts, each with its own connections.
    /// </summary>
    public static string NewSetting(CatalogKind kind) => kind switch
    {
        CatalogKind.Sqlite => "",
        CatalogKind.Postgres => PostgresServer.NewSchema(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
