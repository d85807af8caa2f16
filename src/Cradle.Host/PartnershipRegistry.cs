using System.Data.Common;
using System.Security.Cryptography;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// The host's partnerships (P4: kept until the operator removes them) and the partnerships
/// waiting for the operator's approval, in the host database beside the store's catalog (SQLite
/// or PostgreSQL, see <see cref="CatalogDatabase"/>). One instance is one connection.
/// Uniqueness of device names (P5) is a database constraint, so two sessions, or two hosts
/// sharing PostgreSQL, racing for the same name end with exactly one partnership.
/// </summary>
public sealed partial class PartnershipRegistry : IDisposable
{
    /// <summary>
    /// The registry schema this build writes and reads. 2 (<see cref="RecoverySchemaVersion"/>):
    /// reclaim verifiers and restore grants; 3: confirmed partnerships; 4
    /// (<see cref="PendingOutcomeSchemaVersion"/>): what became of a pending partnership (its
    /// outcome, when it ended), which <c>host approve</c> reports.
    /// </summary>
    public const int SchemaVersion = PendingOutcomeSchemaVersion;

    /// <summary>Schema 3: <c>partnerships.confirmed</c>.</summary>
    public const int ConfirmedSchemaVersion = 3;

    /// <summary>Schema 4: <c>pending.outcome</c> and <c>pending.ended_ms</c>.</summary>
    public const int PendingOutcomeSchemaVersion = 4;

    private readonly DbConnection _connection;
    private readonly CatalogDatabase _database;
    private readonly TimeProvider _time;

    private PartnershipRegistry(CatalogDatabase database, DbConnection connection, TimeProvider time)
    {
        _database = database;
        _connection = connection;
        _time = time;
    }

    /// <summary>Opens the registry in the SQLite file at <paramref name="databasePath"/>.</summary>
    public static PartnershipRegistry Open(string databasePath, TimeProvider? time = null) => Open(CatalogDatabase.SqliteFile(databasePath), time);

    internal static PartnershipRegistry Open(CatalogDatabase database, TimeProvider? time = null)
    {
        var registry = new PartnershipRegistry(database, database.OpenConnection(), time ?? TimeProvider.System);
        try
        {
            registry.EnsureSchema();
        }
        catch
        {
            registry.Dispose();
            throw;
        }

        return registry;
    }

    /// <summary>The key of the registry's schema version in <c>meta</c>.</summary>
    public const string SchemaKey = "registry_schema";

    /// <summary>Schema 2: reclaim verifiers and the operator's restore grants (issue 5).</summary>
    public const int RecoverySchemaVersion = 2;

    /// <summary>The registry's schema: a new one is made at the current version; older ones take the steps.</summary>
    private SchemaRunner Schema() => new(
        "partnership registry",
        SchemaKey,
        SchemaVersion,
        (_, tx) => CreateTables(tx),
        [
            new(RecoverySchemaVersion, (_, tx) =>
            {
                Execute($"ALTER TABLE partnerships ADD COLUMN recovery_verifier {_database.Blob}", tx);
                CreateGrants(tx);
            }),
            // Rows made before partnerships were confirmed come from hosts that did not ask: they
            // stay under P5/P7 as they were, so they migrate as confirmed (the column's default).
            new(ConfirmedSchemaVersion, (_, tx) => Execute($"ALTER TABLE partnerships ADD COLUMN confirmed {_database.BigInt} NOT NULL DEFAULT 1", tx)),
            // What became of a pending partnership, kept for a while after it ended.
            new(PendingOutcomeSchemaVersion, (_, tx) =>
            {
                Execute("ALTER TABLE pending ADD COLUMN outcome TEXT", tx);
                Execute($"ALTER TABLE pending ADD COLUMN ended_ms {_database.BigInt}", tx);
            }),
        ]);

    private void EnsureSchema() => Schema().Ensure(_database, _connection);

    private void CreateTables(DbTransaction tx)
    {
        var db = _database;
        Execute($"""
            CREATE TABLE partnerships(
              device_key TEXT PRIMARY KEY,
              device TEXT NOT NULL,
              number {db.BigInt} NOT NULL,
              secret {db.Blob} NOT NULL,
              created_ms {db.BigInt} NOT NULL,
              last_seen_ms {db.BigInt},
              last_backup_ms {db.BigInt},
              last_link TEXT,
              recovery_verifier {db.Blob},
              confirmed {db.BigInt} NOT NULL DEFAULT 1)
            """, tx);
        Execute($"""
            CREATE TABLE pending(
              code TEXT PRIMARY KEY,
              device TEXT NOT NULL,
              number {db.BigInt} NOT NULL,
              address TEXT NOT NULL,
              created_ms {db.BigInt} NOT NULL,
              state {db.BigInt} NOT NULL DEFAULT 0,
              outcome TEXT,
              ended_ms {db.BigInt})
            """, tx);
        CreateGrants(tx);
    }

    private void CreateGrants(DbTransaction tx) => Execute($"""
        CREATE TABLE restore_grants(
          id {_database.RowKey},
          source_key TEXT NOT NULL,
          source TEXT NOT NULL,
          to_key TEXT NOT NULL,
          to_name TEXT NOT NULL,
          created_ms {_database.BigInt} NOT NULL,
          expires_ms {_database.BigInt} NOT NULL,
          used_ms {_database.BigInt})
        """, tx);

    /// <summary>The host's identity (random id, name), made on first use and kept.</summary>
    public (byte[] Id, string Name) GetOrCreateIdentity(string? nameOverride)
    {
        using var tx = _connection.BeginTransaction();

        // Made once: hosts sharing a catalog (a fleet) starting at the same moment agree on the
        // first id written (a plain upsert would let the second overwrite the first's).
        InsertMetaIfAbsent("host_id", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), tx);
        var id = Scalar("SELECT value FROM meta WHERE key = 'host_id'", tx)!;
        var name = Scalar("SELECT value FROM meta WHERE key = 'host_name'", tx);
        if (nameOverride is not null || name is null)
        {
            name = nameOverride ?? Environment.MachineName;
            SetMeta("host_name", name, tx);
        }

        tx.Commit();
        return (Convert.FromHexString(id), name);
    }

    public HostPartnership? Find(DeviceName device)
    {
        using var command = Command("SELECT device, number, secret, created_ms, last_seen_ms, last_backup_ms, last_link, recovery_verifier, confirmed FROM partnerships WHERE device_key = @key");
        command.AddParameter("@key", device.Key);
        return Read(command).FirstOrDefault();
    }

    public List<HostPartnership> List()
    {
        using var command = Command("SELECT device, number, secret, created_ms, last_seen_ms, last_backup_ms, last_link, recovery_verifier, confirmed FROM partnerships ORDER BY device_key");
        return Read(command);
    }

    /// <summary>
    /// Creates an unconfirmed partnership with a fresh 256-bit secret, or returns null when the
    /// name is already taken (P5) — checked by the primary key, not by a read before the write.
    /// </summary>
    public HostPartnership? TryCreate(DeviceName device, uint number, string link, byte[]? recoveryVerifier = null) =>
        WriteNew("INSERT INTO partnerships(device_key, device, number, secret, created_ms, last_seen_ms, last_link, recovery_verifier, confirmed) VALUES(@key, @device, @number, @secret, @now, @now, @link, @verifier, 0) ON CONFLICT(device_key) DO NOTHING", device, number, link, recoveryVerifier, oldNumber: null);

    /// <summary>
    /// Makes a new partnership in place of an unconfirmed one — a device that never stored
    /// <paramref name="oldNumber"/>'s secret asks again: new number, new secret, new creation
    /// time, still unconfirmed. Only while the record is unconfirmed and still has
    /// <paramref name="oldNumber"/> (one statement, so a confirmation or another request that
    /// wins the race leaves it alone); returns null otherwise.
    /// </summary>
    public HostPartnership? TryReplaceUnconfirmed(DeviceName device, uint oldNumber, uint number, string link, byte[]? recoveryVerifier = null) =>
        WriteNew("UPDATE partnerships SET device = @device, number = @number, secret = @secret, created_ms = @now, last_seen_ms = @now, last_backup_ms = NULL, last_link = @link, recovery_verifier = @verifier WHERE device_key = @key AND number = @old AND confirmed = 0", device, number, link, recoveryVerifier, oldNumber);

    /// <summary>Runs <paramref name="sql"/> with a fresh secret and the time now; the new, unconfirmed record when it wrote one row, else null.</summary>
    private HostPartnership? WriteNew(string sql, DeviceName device, uint number, string link, byte[]? recoveryVerifier, uint? oldNumber)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        using var command = Command(sql);
        command.AddParameter("@verifier", (object?)recoveryVerifier ?? DBNull.Value);
        command.AddParameter("@key", device.Key);
        command.AddParameter("@device", device.Value);
        if (oldNumber is { } old)
        {
            command.AddParameter("@old", (long)old);
        }

        command.AddParameter("@number", (long)number);
        command.AddParameter("@secret", secret);
        command.AddParameter("@now", now);
        command.AddParameter("@link", link);
        return command.ExecuteNonQuery() == 1
            ? new HostPartnership(device.Value, number, secret, DateTimeOffset.FromUnixTimeMilliseconds(now), DateTimeOffset.FromUnixTimeMilliseconds(now), null, link, recoveryVerifier, Confirmed: false)
            : null;
    }

    /// <summary>
    /// The device has shown it holds partnership <paramref name="number"/>'s secret (it said it
    /// stored it, or it authenticated with it): from now on P5/P7 protect the record. False when
    /// the record no longer has that number (replaced or forgotten meanwhile).
    /// </summary>
    public bool Confirm(DeviceName device, uint number)
    {
        using var command = Command("UPDATE partnerships SET confirmed = 1 WHERE device_key = @key AND number = @number");
        command.AddParameter("@key", device.Key);
        command.AddParameter("@number", (long)number);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// A reclaim (P9): the record keeps its name, creation time and history and gets a new
    /// number and a fresh secret. Only if it still has <paramref name="oldNumber"/> (no race
    /// with another reclaim); returns the new secret, or null.
    /// </summary>
    public byte[]? Reclaim(DeviceName device, uint oldNumber, uint newNumber, string link)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        using var command = Command("UPDATE partnerships SET number = @new, secret = @secret, last_seen_ms = @now, last_link = @link WHERE device_key = @key AND number = @old");
        command.AddParameter("@key", device.Key);
        command.AddParameter("@old", (long)oldNumber);
        command.AddParameter("@new", (long)newNumber);
        command.AddParameter("@secret", secret);
        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.AddParameter("@link", link);
        return command.ExecuteNonQuery() == 1 ? secret : null;
    }

    /// <summary>The operator's consent: <paramref name="to"/> may restore <paramref name="source"/>'s files once, until it expires.</summary>
    public RestoreGrant AllowRestore(DeviceName source, DeviceName to, TimeSpan lifetime)
    {
        var now = _time.GetUtcNow();
        var expires = now + lifetime;
        using var command = Command("INSERT INTO restore_grants(source_key, source, to_key, to_name, created_ms, expires_ms) VALUES(@sk, @s, @tk, @t, @now, @exp) RETURNING id");
        command.AddParameter("@sk", source.Key);
        command.AddParameter("@s", source.Value);
        command.AddParameter("@tk", to.Key);
        command.AddParameter("@t", to.Value);
        command.AddParameter("@now", now.ToUnixTimeMilliseconds());
        command.AddParameter("@exp", expires.ToUnixTimeMilliseconds());
        var id = (long)command.ExecuteScalar()!;
        return new RestoreGrant(id, source.Value, to.Value, now, DateTimeOffset.FromUnixTimeMilliseconds(expires.ToUnixTimeMilliseconds()));
    }

    /// <summary>
    /// Uses up one unexpired grant for <paramref name="to"/> to restore <paramref name="source"/>'s
    /// files. One statement marks it used, so two sessions cannot both spend it.
    /// </summary>
    public bool TryUseGrant(DeviceName source, DeviceName to)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // "used_ms IS NULL" stands in the outer WHERE too: under PostgreSQL's READ COMMITTED a
        // second writer waiting on the row re-checks only the outer condition once the first
        // commits; inside the subquery alone, both would spend the grant.
        using var command = Command("UPDATE restore_grants SET used_ms = @now WHERE used_ms IS NULL AND id = (SELECT id FROM restore_grants WHERE source_key = @sk AND to_key = @tk AND used_ms IS NULL AND expires_ms > @now ORDER BY id LIMIT 1)");
        command.AddParameter("@sk", source.Key);
        command.AddParameter("@tk", to.Key);
        command.AddParameter("@now", now);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>True when an unexpired, unused grant lets <paramref name="to"/> restore <paramref name="source"/>'s files (it is not used up).</summary>
    public bool HasGrant(DeviceName source, DeviceName to)
    {
        using var command = Command("SELECT COUNT(*) FROM restore_grants WHERE source_key = @sk AND to_key = @tk AND used_ms IS NULL AND expires_ms > @now");
        command.AddParameter("@sk", source.Key);
        command.AddParameter("@tk", to.Key);
        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        return (long)command.ExecuteScalar()! > 0;
    }

    public void RecordSeen(DeviceName device, string link, bool backedUp)
    {
        using var command = Command(backedUp
            ? "UPDATE partnerships SET last_seen_ms = @now, last_backup_ms = @now, last_link = @link WHERE device_key = @key"
            : "UPDATE partnerships SET last_seen_ms = @now, last_link = @link WHERE device_key = @key");
        command.AddParameter("@key", device.Key);
        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.AddParameter("@link", link);
        command.ExecuteNonQuery();
    }

    /// <summary>Removes a device's partnership (the operator's forget). True when there was one.</summary>
    public bool Forget(DeviceName device)
    {
        using var command = Command("DELETE FROM partnerships WHERE device_key = @key");
        command.AddParameter("@key", device.Key);
        return command.ExecuteNonQuery() == 1;
    }

    private static List<HostPartnership> Read(DbCommand command)
    {
        var list = new List<HostPartnership>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new HostPartnership(
                reader.GetString(0),
                (uint)reader.GetInt64(1),
                (byte[])reader.GetValue(2),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : (byte[])reader.GetValue(7),
                reader.GetInt64(8) != 0));
        }

        return list;
    }

    internal DbCommand Command(string sql, DbTransaction? tx = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    private void Execute(string sql, DbTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql, DbTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        return command.ExecuteScalar() as string;
    }

    /// <summary>A value of the host database's meta table (null when absent).</summary>
    internal string? MetaValue(string key)
    {
        using var command = Command("SELECT value FROM meta WHERE key = @k");
        command.AddParameter("@k", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>Sets a value of the meta table.</summary>
    internal void SetMetaValue(string key, string value)
    {
        using var tx = _connection.BeginTransaction();
        SetMeta(key, value, tx);
        tx.Commit();
    }

    private void SetMeta(string key, string value, DbTransaction tx)
    {
        using var command = Command("INSERT INTO meta(key, value) VALUES(@k, @v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", tx);
        command.AddParameter("@k", key);
        command.AddParameter("@v", value);
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>
/// A partnership as the host keeps it. <see cref="Confirmed"/> is false from its creation until
/// the device shows it holds the secret: such a record may be replaced by a new request for the
/// name (the device never got or never stored the secret), a confirmed one never (P5/P7).
/// </summary>
public sealed record HostPartnership(string Name, uint Number, byte[] Secret, DateTimeOffset Created, DateTimeOffset? LastSeen, DateTimeOffset? LastBackup, string? LastLink, byte[]? RecoveryVerifier = null, bool Confirmed = true);

/// <summary>The operator's one-time, expiring consent for <see cref="To"/> to restore <see cref="Source"/>'s files.</summary>
public sealed record RestoreGrant(long Id, string Source, string To, DateTimeOffset Created, DateTimeOffset Expires);
