using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>The catalog engines the store tests run on.</summary>
public enum CatalogKind
{
    /// <summary>cradle.db in the store's folder (the default).</summary>
    Sqlite,

    /// <summary>A fresh database in the test run's PostgreSQL cluster (tests/postgres.sh).</summary>
    Postgres,
}

public static class TestCatalogs
{
    /// <summary>A new, empty catalog database of <paramref name="kind"/> for a store in <paramref name="folder"/>.</summary>
    public static CatalogDatabase Create(CatalogKind kind, string folder) => kind switch
    {
        CatalogKind.Sqlite => CatalogDatabase.InFolder(folder),
        CatalogKind.Postgres => CatalogDatabase.Open(PostgresServer.NewDatabase(), folder),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
