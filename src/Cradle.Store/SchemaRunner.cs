using System.Data.Common;
using System.Globalization;
using Cradle.Content;

namespace Cradle.Store;

/// <summary>
/// One step of a schema: what takes a database from <see cref="Version"/> − 1 to <see cref="Version"/>.
/// </summary>
/// <param name="Version">The version the step leaves the schema at (a named constant of its owner).</param>
/// <param name="Apply">The statements, run inside the schema transaction.</param>
internal sealed record SchemaStep(int Version, Action<DbConnection, DbTransaction> Apply);

/// <summary>
/// Creates or migrates one schema kept in the host database (the store's catalog, the host's
/// partnership registry; SQLite or PostgreSQL, <see cref="CatalogDatabase"/>). Its version is a
/// row of the shared <c>meta</c> table under <see cref="MetaKey"/>. A new database is made by
/// <see cref="Create"/> at <see cref="CreatesVersion"/>; then every step above the version found
/// runs in order, each recording its version, all in one transaction under the schema lock, so a
/// crash mid-way leaves the old version whole and two processes starting at once migrate once.
/// A version newer than <see cref="Current"/> is refused: an older build must not write to it.
/// </summary>
internal sealed class SchemaRunner
{
    private readonly SchemaStep[] _steps;

    /// <param name="name">The schema's name in messages ("catalog", "partnership registry").</param>
    /// <param name="metaKey">Its version's key in <c>meta</c>.</param>
    /// <param name="createsVersion">The version <paramref name="create"/> leaves a new database at.</param>
    /// <param name="create">Makes the tables of a new database (inside the transaction).</param>
    /// <param name="steps">From version 2 up, one per version, in order; the last is the current version.</param>
    /// <param name="refusalAdvice">Appended to the refusal of a newer version.</param>
    public SchemaRunner(string name, string metaKey, int createsVersion, Action<DbConnection, DbTransaction> create, IReadOnlyList<SchemaStep> steps, string refusalAdvice = "")
    {
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].Version != i + 2)
            {
                throw new ArgumentException($"the {name} schema's steps must run 2, 3, … in order; step {i} is version {steps[i].Version}", nameof(steps));
            }
        }

        Name = name;
        MetaKey = metaKey;
        Current = steps.Count + 1;
        CreatesVersion = createsVersion is >= 1 && createsVersion <= Current
            ? createsVersion
            : throw new ArgumentOutOfRangeException(nameof(createsVersion), $"the {name} schema has versions 1 to {Current}");
        Create = create;
        _steps = [.. steps];
        RefusalAdvice = refusalAdvice;
    }

    public string Name { get; }

    public string MetaKey { get; }

    /// <summary>The version this build writes and reads: the last step's.</summary>
    public int Current { get; }

    public int CreatesVersion { get; }

    public Action<DbConnection, DbTransaction> Create { get; }

    public string RefusalAdvice { get; }

    /// <summary>Brings the schema on <paramref name="connection"/> to <see cref="Current"/>, or refuses a newer one.</summary>
    /// <exception cref="StoreFormatException">The database holds a version this build does not know.</exception>
    public void Ensure(CatalogDatabase database, DbConnection connection)
    {
        var current = Text(Current);
        if (database.SchemaIsCurrent(connection, MetaKey, current))
        {
            return;
        }

        using var tx = connection.BeginTransaction();
        database.LockSchema(connection, tx);
        Execute(connection, tx, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        var found = ReadVersion(connection, tx);
        int version;
        if (found is null)
        {
            Create(connection, tx);
            version = CreatesVersion;
            Execute(connection, tx, "INSERT INTO meta(key, value) VALUES(@key, @value)", version);
        }
        else if (!int.TryParse(found, NumberStyles.None, CultureInfo.InvariantCulture, out version) || version < 1 || version > Current)
        {
            // Equal to current also when another process migrated it between the unlocked look and the lock.
            throw new StoreFormatException($"the {Name} has schema version {found}; this build knows versions 1 to {Current} only{RefusalAdvice}");
        }

        foreach (var step in _steps.Where(s => s.Version > version))
        {
            step.Apply(connection, tx);
            Execute(connection, tx, "UPDATE meta SET value = @value WHERE key = @key", step.Version);
        }

        tx.Commit();
        database.SawSchema(MetaKey, current);
    }

    /// <summary>The version recorded in <paramref name="connection"/>'s database, null when it holds none.</summary>
    public string? ReadVersion(DbConnection connection, DbTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM meta WHERE key = @key";
        command.AddParameter("@key", MetaKey);
        return command.ExecuteScalar() as string;
    }

    private void Execute(DbConnection connection, DbTransaction tx, string sql, int? version = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        if (version is { } v)
        {
            command.AddParameter("@key", MetaKey);
            command.AddParameter("@value", Text(v));
        }

        command.ExecuteNonQuery();
    }

    private static string Text(int version) => version.ToString(CultureInfo.InvariantCulture);
}
