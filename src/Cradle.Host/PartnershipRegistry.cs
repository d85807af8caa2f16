using System.Security.Cryptography;
using Cradle.Protocol;
using Cradle.Store;
using Microsoft.Data.Sqlite;

namespace Cradle.Host;

/// <summary>
/// The host's partnerships (P4: kept until the operator removes them) and the partnerships
/// waiting for the operator's approval, in the host database beside the store's catalog.
/// One instance is one connection. Uniqueness of device names (P5) is a database constraint,
/// so two sessions racing for the same name end with exactly one partnership.
/// </summary>
public sealed class PartnershipRegistry : IDisposable
{
    public const int SchemaVersion = 2;

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;

    private PartnershipRegistry(SqliteConnection connection, TimeProvider time)
    {
        _connection = connection;
        _time = time;
    }

    public static PartnershipRegistry Open(string databasePath, TimeProvider? time = null)
    {
        var registry = new PartnershipRegistry(Catalog.OpenConnection(databasePath), time ?? TimeProvider.System);
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

    private void EnsureSchema()
    {
        using var tx = _connection.BeginTransaction();
        Execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)", tx);
        var version = Scalar("SELECT value FROM meta WHERE key = 'registry_schema'", tx);
        if (version is null)
        {
            Execute("""
                CREATE TABLE partnerships(
                  device_key TEXT PRIMARY KEY,
                  device TEXT NOT NULL,
                  number INTEGER NOT NULL,
                  secret BLOB NOT NULL,
                  created_ms INTEGER NOT NULL,
                  last_seen_ms INTEGER,
                  last_backup_ms INTEGER,
                  last_link TEXT,
                  recovery_verifier BLOB);
                CREATE TABLE pending(
                  code TEXT PRIMARY KEY,
                  device TEXT NOT NULL,
                  number INTEGER NOT NULL,
                  address TEXT NOT NULL,
                  created_ms INTEGER NOT NULL,
                  state INTEGER NOT NULL DEFAULT 0);
                """, tx);
            CreateGrants(tx);
            Execute("INSERT INTO meta(key, value) VALUES('registry_schema', '2')", tx);
        }
        else if (version == "1")
        {
            // Version 2 adds what issue 5 needs: the reclaim verifier and the operator's restore grants.
            Execute("ALTER TABLE partnerships ADD COLUMN recovery_verifier BLOB", tx);
            CreateGrants(tx);
            Execute("UPDATE meta SET value = '2' WHERE key = 'registry_schema'", tx);
        }
        else if (version != "2")
        {
            throw new StoreFormatException($"the partnership registry has schema version {version}; this build knows version {SchemaVersion} only");
        }

        tx.Commit();
    }

    private void CreateGrants(SqliteTransaction tx) => Execute("""
        CREATE TABLE restore_grants(
          id INTEGER PRIMARY KEY,
          source_key TEXT NOT NULL,
          source TEXT NOT NULL,
          to_key TEXT NOT NULL,
          to_name TEXT NOT NULL,
          created_ms INTEGER NOT NULL,
          expires_ms INTEGER NOT NULL,
          used_ms INTEGER)
        """, tx);

    /// <summary>The host's identity (random id, name), made on first use and kept.</summary>
    public (byte[] Id, string Name) GetOrCreateIdentity(string? nameOverride)
    {
        using var tx = _connection.BeginTransaction();
        var id = Scalar("SELECT value FROM meta WHERE key = 'host_id'", tx);
        if (id is null)
        {
            id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            SetMeta("host_id", id, tx);
        }

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
        using var command = Command("SELECT device, number, secret, created_ms, last_seen_ms, last_backup_ms, last_link, recovery_verifier FROM partnerships WHERE device_key = $key");
        command.Parameters.AddWithValue("$key", device.Key);
        return Read(command).FirstOrDefault();
    }

    public List<HostPartnership> List()
    {
        using var command = Command("SELECT device, number, secret, created_ms, last_seen_ms, last_backup_ms, last_link, recovery_verifier FROM partnerships ORDER BY device_key");
        return Read(command);
    }

    /// <summary>
    /// Creates a partnership with a fresh 256-bit secret, or returns null when the name is
    /// already taken (P5) — checked by the primary key, not by a read before the write.
    /// </summary>
    public HostPartnership? TryCreate(DeviceName device, uint number, string link, byte[]? recoveryVerifier = null)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        using var command = Command("INSERT INTO partnerships(device_key, device, number, secret, created_ms, last_seen_ms, last_link, recovery_verifier) VALUES($key, $device, $number, $secret, $now, $now, $link, $verifier) ON CONFLICT(device_key) DO NOTHING");
        command.Parameters.AddWithValue("$verifier", (object?)recoveryVerifier ?? DBNull.Value);
        command.Parameters.AddWithValue("$key", device.Key);
        command.Parameters.AddWithValue("$device", device.Value);
        command.Parameters.AddWithValue("$number", (long)number);
        command.Parameters.AddWithValue("$secret", secret);
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$link", link);
        return command.ExecuteNonQuery() == 1
            ? new HostPartnership(device.Value, number, secret, DateTimeOffset.FromUnixTimeMilliseconds(now), DateTimeOffset.FromUnixTimeMilliseconds(now), null, link, recoveryVerifier)
            : null;
    }

    /// <summary>
    /// A reclaim (P9): the record keeps its name, creation time and history and gets a new
    /// number and a fresh secret. Only if it still has <paramref name="oldNumber"/> (no race
    /// with another reclaim); returns the new secret, or null.
    /// </summary>
    public byte[]? Reclaim(DeviceName device, uint oldNumber, uint newNumber, string link)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        using var command = Command("UPDATE partnerships SET number = $new, secret = $secret, last_seen_ms = $now, last_link = $link WHERE device_key = $key AND number = $old");
        command.Parameters.AddWithValue("$key", device.Key);
        command.Parameters.AddWithValue("$old", (long)oldNumber);
        command.Parameters.AddWithValue("$new", (long)newNumber);
        command.Parameters.AddWithValue("$secret", secret);
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$link", link);
        return command.ExecuteNonQuery() == 1 ? secret : null;
    }

    /// <summary>The operator's consent: <paramref name="to"/> may restore <paramref name="source"/>'s files once, until it expires.</summary>
    public RestoreGrant AllowRestore(DeviceName source, DeviceName to, TimeSpan lifetime)
    {
        var now = _time.GetUtcNow();
        var expires = now + lifetime;
        using var command = Command("INSERT INTO restore_grants(source_key, source, to_key, to_name, created_ms, expires_ms) VALUES($sk, $s, $tk, $t, $now, $exp) RETURNING id");
        command.Parameters.AddWithValue("$sk", source.Key);
        command.Parameters.AddWithValue("$s", source.Value);
        command.Parameters.AddWithValue("$tk", to.Key);
        command.Parameters.AddWithValue("$t", to.Value);
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$exp", expires.ToUnixTimeMilliseconds());
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
        using var command = Command("UPDATE restore_grants SET used_ms = $now WHERE id = (SELECT id FROM restore_grants WHERE source_key = $sk AND to_key = $tk AND used_ms IS NULL AND expires_ms > $now ORDER BY id LIMIT 1)");
        command.Parameters.AddWithValue("$sk", source.Key);
        command.Parameters.AddWithValue("$tk", to.Key);
        command.Parameters.AddWithValue("$now", now);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>True when an unexpired, unused grant lets <paramref name="to"/> restore <paramref name="source"/>'s files (it is not used up).</summary>
    public bool HasGrant(DeviceName source, DeviceName to)
    {
        using var command = Command("SELECT COUNT(*) FROM restore_grants WHERE source_key = $sk AND to_key = $tk AND used_ms IS NULL AND expires_ms > $now");
        command.Parameters.AddWithValue("$sk", source.Key);
        command.Parameters.AddWithValue("$tk", to.Key);
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        return (long)command.ExecuteScalar()! > 0;
    }

    public void RecordSeen(DeviceName device, string link, bool backedUp)
    {
        using var command = Command(backedUp
            ? "UPDATE partnerships SET last_seen_ms = $now, last_backup_ms = $now, last_link = $link WHERE device_key = $key"
            : "UPDATE partnerships SET last_seen_ms = $now, last_link = $link WHERE device_key = $key");
        command.Parameters.AddWithValue("$key", device.Key);
        command.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$link", link);
        command.ExecuteNonQuery();
    }

    /// <summary>Removes a device's partnership (the operator's forget). True when there was one.</summary>
    public bool Forget(DeviceName device)
    {
        using var command = Command("DELETE FROM partnerships WHERE device_key = $key");
        command.Parameters.AddWithValue("$key", device.Key);
        return command.ExecuteNonQuery() == 1;
    }

    private static List<HostPartnership> Read(SqliteCommand command)
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
                reader.IsDBNull(7) ? null : (byte[])reader.GetValue(7)));
        }

        return list;
    }

    internal SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    private void Execute(string sql, SqliteTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql, SqliteTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        return command.ExecuteScalar() as string;
    }

    private void SetMeta(string key, string value, SqliteTransaction tx)
    {
        using var command = Command("INSERT INTO meta(key, value) VALUES($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value", tx);
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>A partnership as the host keeps it.</summary>
public sealed record HostPartnership(string Name, uint Number, byte[] Secret, DateTimeOffset Created, DateTimeOffset? LastSeen, DateTimeOffset? LastBackup, string? LastLink, byte[]? RecoveryVerifier = null);

/// <summary>The operator's one-time, expiring consent for <see cref="To"/> to restore <see cref="Source"/>'s files.</summary>
public sealed record RestoreGrant(long Id, string Source, string To, DateTimeOffset Created, DateTimeOffset Expires);
