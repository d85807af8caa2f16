using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cradle.Store;

/// <summary>
/// Where the host's database (the store's catalog and the partnership registry) lives, and the
/// few things its SQL dialect does differently. <see cref="Catalog"/> and the registry are written
/// once against ADO.NET; this object opens their connections and supplies the DDL types, the
/// schema lock and the error codes that differ between SQLite (the embedded default, one file in
/// the host's folder) and PostgreSQL (shared by several hosts).
/// </summary>
internal abstract class CatalogDatabase : IDisposable
{
    /// <summary>True for PostgreSQL, false for the SQLite file.</summary>
    public abstract bool IsShared { get; }

    /// <summary>Where the catalog is, for messages and logs: never contains a password.</summary>
    public abstract string Description { get; }

    /// <summary>The SQLite file, or null when the catalog is not a local file.</summary>
    public abstract string? FilePath { get; }

    /// <summary>A binary column type: BLOB or BYTEA.</summary>
    public abstract string Blob { get; }

    /// <summary>A 64-bit integer column type (PostgreSQL's INTEGER is 32 bits; SQLite's is 64).</summary>
    public abstract string BigInt { get; }

    /// <summary>A 64-bit key the database numbers on insert, never reusing a deleted one.</summary>
    public abstract string AutoKey { get; }

    /// <summary>A 64-bit row key the database numbers on insert (SQLite may reuse the largest deleted one).</summary>
    public abstract string RowKey { get; }

    /// <summary>A table clause for tables keyed by a blob (SQLite's WITHOUT ROWID; nothing on PostgreSQL).</summary>
    public abstract string KeyedTable { get; }

    /// <summary>A new connection with the settings every user of the host database needs.</summary>
    public abstract DbConnection OpenConnection();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _schemasSeen = new();

    /// <summary>
    /// True when this process has already created or checked the schema whose version is kept
    /// under <paramref name="metaKey"/> and the database still says <paramref name="version"/>:
    /// then a new connection needs no schema transaction. That transaction takes the schema lock
    /// (an advisory lock on PostgreSQL, SQLite's write lock), and every session opens a
    /// connection or two: taken each time, 100 sessions starting at once queued on it, each
    /// blocking a thread. The version is still read, unlocked, so a schema another host has
    /// migrated since is noticed (and refused) as before.
    /// </summary>
    public bool SchemaIsCurrent(DbConnection connection, string metaKey, string version)
    {
        if (!_schemasSeen.TryGetValue(metaKey, out var seen) || seen != version)
        {
            return false;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = @key";
        command.AddParameter("@key", metaKey);
        return command.ExecuteScalar() as string == version;
    }

    /// <summary>Records that the schema under <paramref name="metaKey"/> is at <paramref name="version"/> (after its schema transaction committed).</summary>
    public void SawSchema(string metaKey, string version) => _schemasSeen[metaKey] = version;

    /// <summary>
    /// What a long-running host holds while it runs (until disposed) so that the sessions'
    /// connections, opened and closed one after another, cost no more than their transactions.
    /// For SQLite, one idle connection: when the last connection to a WAL database closes, SQLite
    /// checkpoints the WAL into the database and deletes it (fsyncs of both, and of the folder when
    /// the next connection makes the WAL again): three times per backup session (authentication,
    /// the backup, the "last backup" record) without it. Nothing for PostgreSQL, whose
    /// connections are pooled.
    /// </summary>
    public virtual IDisposable KeepOpen() => new NothingHeld();

    private sealed class NothingHeld : IDisposable
    {
        public void Dispose()
        {
        }
    }

    /// <summary>
    /// Called first inside a schema transaction: serializes schema creation and migration between
    /// processes that start at once (SQLite's write lock does that already).
    /// </summary>
    public abstract void LockSchema(DbConnection connection, DbTransaction transaction);

    /// <summary>True when a table already has a column (for migrations that add one).</summary>
    public abstract bool HasColumn(DbConnection connection, DbTransaction transaction, string table, string column);

    /// <summary>Bytes the database takes (the file and its WAL; PostgreSQL's database).</summary>
    public abstract long SizeBytes(DbConnection connection);

    /// <summary>
    /// True when the database already holds a host's catalog, looked at without creating
    /// anything: the operator's commands (all but <c>cradle host run</c>) refuse a folder or
    /// database that holds none, instead of making an empty store where a typo pointed.
    /// </summary>
    public abstract bool HoldsCatalog();

    /// <summary>The SQLite file <c>cradle.db</c> in the host's folder: the default.</summary>
    public static CatalogDatabase InFolder(string folder) => SqliteFile(Path.Combine(folder, ChunkStore.DatabaseFileName));

    /// <summary>A SQLite file at <paramref name="path"/>.</summary>
    public static CatalogDatabase SqliteFile(string path) => new SqliteCatalogDatabase(Path.GetFullPath(path));

    /// <summary>
    /// The catalog a setting names: empty or null for the SQLite file in <paramref name="folder"/>;
    /// a PostgreSQL connection string (<c>Host=…;Database=…;Username=…</c>) or URL
    /// (<c>postgres://user:password@host:port/database</c>) for PostgreSQL.
    /// </summary>
    public static CatalogDatabase Open(string? setting, string folder) =>
        string.IsNullOrWhiteSpace(setting) ? InFolder(folder) : new PostgresCatalogDatabase(PostgresConnectionString(setting));

    /// <summary>True when a setting is a valid catalog setting (checked at start, before anything runs).</summary>
    public static bool IsValidSetting(string setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return true;
        }

        try
        {
            PostgresConnectionString(setting);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The setting as it may be shown or logged: the password replaced by <c>***</c>.</summary>
    public static string Redact(string setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return setting;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString(setting));
            if (builder.Password is not null)
            {
                builder.Password = "***";
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            // Not a connection string at all: it may still hold a password somewhere, so show none of it.
            return "(not a PostgreSQL connection string)";
        }
    }

    /// <summary>Turns a <c>postgres://</c> URL into a connection string and checks a connection string's keys.</summary>
    internal static string PostgresConnectionString(string setting)
    {
        NpgsqlConnectionStringBuilder builder;
        if (setting.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || setting.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(setting, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                throw new ArgumentException("a postgres:// URL needs a host: postgres://USER:PASSWORD@HOST:PORT/DATABASE");
            }

            builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
            if (uri.Port > 0)
            {
                builder.Port = uri.Port;
            }

            var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
            if (database.Length > 0)
            {
                builder.Database = database;
            }

            var userInfo = uri.UserInfo.Split(':', 2);
            if (userInfo[0].Length > 0)
            {
                builder.Username = Uri.UnescapeDataString(userInfo[0]);
            }

            if (userInfo.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(userInfo[1]);
            }
        }
        else
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(setting);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
            {
                // The message of a bad connection string may quote it; the caller shows the redacted form.
                throw new ArgumentException("not a PostgreSQL connection string (Host=…;Database=…;Username=…) nor a postgres:// URL", e);
            }

            if (string.IsNullOrEmpty(builder.Host))
            {
                throw new ArgumentException("a PostgreSQL connection string needs Host=…");
            }
        }

        return builder.ConnectionString;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>The catalog in one SQLite file, shared by the host's sessions through WAL.</summary>
internal sealed class SqliteCatalogDatabase(string path) : CatalogDatabase
{
    public override bool IsShared => false;

    public override string Description => path;

    public override string? FilePath => path;

    public override string Blob => "BLOB";

    public override string BigInt => "INTEGER";

    public override string AutoKey => "INTEGER PRIMARY KEY AUTOINCREMENT";

    public override string RowKey => "INTEGER PRIMARY KEY";

    public override string KeyedTable => " WITHOUT ROWID";

    public override DbConnection OpenConnection()
    {
        CreatePrivately();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        using var pragmas = connection.CreateCommand();
        // WAL lets restores and the CLI read while the host writes; synchronous=FULL makes a
        // committed transaction survive a power cut, which is what "committed" promises. The WAL
        // file outlives checkpoints while the host keeps a connection open (KeepOpen): without a
        // limit it stays at its largest (4.4 MB after the 500 MB set's first backup, 1.3 % of that
        // repository); with one it is cut back to 1 MiB when the next write reuses it.
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; PRAGMA journal_size_limit=1048576;";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>An idle connection (never in a transaction, so it holds back no checkpoint).</summary>
    public override IDisposable KeepOpen() => OpenConnection();

    public override bool HoldsCatalog() => File.Exists(path) && new FileInfo(path).Length > 0;

    public override void LockSchema(DbConnection connection, DbTransaction transaction)
    {
    }

    /// <summary>
    /// The catalog holds the partnership secrets: a new one is made empty and owner-only (0600)
    /// before SQLite opens it (SQLite takes an empty file for a new database, and gives its
    /// -wal and -shm files the database file's mode).
    /// </summary>
    private void CreatePrivately()
    {
        if (OperatingSystem.IsWindows() || File.Exists(path))
        {
            return;
        }

        try
        {
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Made by another connection first (the same way), or a folder that is missing or
            // not writable: SQLite reports that when it opens, as it did before this step.
        }
    }

    public override bool HasColumn(DbConnection connection, DbTransaction transaction, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info(@table) WHERE name = @column";
        command.AddParameter("@table", table);
        command.AddParameter("@column", column);
        return (long)command.ExecuteScalar()! > 0;
    }

    public override long SizeBytes(DbConnection connection) =>
        new[] { "", "-wal", "-shm" }.Select(suffix => new FileInfo(path + suffix)).Where(f => f.Exists).Sum(f => f.Length);
}

/// <summary>
/// The catalog in PostgreSQL, shared by every host of a fleet. Connections come from one pooled
/// data source per process (the slim builder: only the types the catalog uses, no reflection).
/// </summary>
internal sealed class PostgresCatalogDatabase : CatalogDatabase
{
    /// <summary>Any fixed number: the advisory lock every host takes while it creates or migrates the schema.</summary>
    private const long SchemaLockKey = 0x43_52_41_44_4C_45;

    private readonly NpgsqlDataSource _source;
    private readonly string _description;

    public PostgresCatalogDatabase(string connectionString)
    {
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;
        _description = $"PostgreSQL {settings.Host}:{settings.Port}/{settings.Database ?? settings.Username ?? "(default)"}";
        _source = builder.Build();
    }

    public override bool IsShared => true;

    public override string Description => _description;

    public override string? FilePath => null;

    public override string Blob => "BYTEA";

    public override string BigInt => "BIGINT";

    public override string AutoKey => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";

    public override string RowKey => AutoKey;

    public override string KeyedTable => "";

    public override DbConnection OpenConnection()
    {
        try
        {
            return _source.OpenConnection();
        }
        catch (NpgsqlException e)
        {
            // Npgsql's messages name host and port, never the password.
            throw new CatalogUnavailableException(_description, e);
        }
    }

    public override void LockSchema(DbConnection connection, DbTransaction transaction)
    {
        // CREATE TABLE IF NOT EXISTS is not safe against a second host doing the same at the
        // same moment; the transaction-scoped lock makes the second wait, then see the schema.
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT pg_advisory_xact_lock(@key)";
        command.AddParameter("@key", SchemaLockKey);
        command.ExecuteNonQuery();
    }

    public override bool HoldsCatalog()
    {
        using var connection = OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'meta'";
        return (long)command.ExecuteScalar()! > 0;
    }

    public override bool HasColumn(DbConnection connection, DbTransaction transaction, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table AND column_name = @column";
        command.AddParameter("@table", table);
        command.AddParameter("@column", column);
        return (long)command.ExecuteScalar()! > 0;
    }

    public override long SizeBytes(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_database_size(current_database())";
        return (long)command.ExecuteScalar()!;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _source.Dispose();
        }
    }
}

/// <summary>
/// The catalog's database server could not be reached or refused the connection. Transient when
/// the server may come back (refused, timed out); not when it refused the credentials or the database.
/// </summary>
public sealed class CatalogUnavailableException(string catalog, NpgsqlException inner)
    : Protocol.CradleException($"cannot open the catalog ({catalog}): {inner.Message}", isTransient: inner is not PostgresException, inner);

/// <summary>Provider-neutral parameters: <c>@name</c> works on both SQLite and PostgreSQL.</summary>
internal static class DbCommandExtensions
{
    /// <summary>Adds a parameter; integers go as 64-bit (every integer column is), null as DBNull.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value switch
        {
            null => DBNull.Value,
            int i => (long)i,
            uint u => (long)u,
            _ => value,
        };
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Adds a typed parameter whose value is set before each execution (for prepared loops).</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, System.Data.DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
