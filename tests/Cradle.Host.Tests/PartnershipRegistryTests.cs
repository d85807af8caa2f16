using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>The registry on SQLite (the default) and on PostgreSQL: the same tests, two engines.</summary>
public sealed class PartnershipRegistryTestsOnSqlite() : PartnershipRegistryTests(CatalogKind.Sqlite);

public sealed class PartnershipRegistryTestsOnPostgres() : PartnershipRegistryTests(CatalogKind.Postgres);

public abstract class PartnershipRegistryTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _temp = new();
    private readonly FixedTime _time = new(Now);
    private readonly string _setting;
    private readonly CatalogDatabase _database;

    protected PartnershipRegistryTests(CatalogKind kind)
    {
        _setting = TestCatalogs.NewSetting(kind);
        _database = CatalogDatabase.Open(_setting, _temp.Path);
    }

    public void Dispose()
    {
        _database.Dispose();
        _temp.Dispose();
        GC.SuppressFinalize(this);
    }

    private PartnershipRegistry Open() => PartnershipRegistry.Open(_database, _time);

    [Fact]
    public void TryCreate_makes_a_partnership_with_a_fresh_256_bit_secret()
    {
        using var registry = Open();

        var created = registry.TryCreate(DeviceName.Parse("MX7"), 0x1234, "tcp 10.0.0.2");

        Assert.NotNull(created);
        Assert.Equal("MX7", created.Name);
        Assert.Equal(0x1234u, created.Number);
        Assert.Equal(32, created.Secret.Length);
        Assert.Contains(created.Secret, b => b != 0);
        Assert.Equal(Now, created.Created);
        Assert.Equal("tcp 10.0.0.2", created.LastLink);
        Assert.NotEqual(created.Secret, registry.TryCreate(DeviceName.Parse("MX8"), 0x1234, "tcp")!.Secret);
    }

    [Fact]
    public void P5_a_second_partnership_for_the_same_name_in_another_case_is_refused_by_the_database()
    {
        using var registry = Open();
        var first = registry.TryCreate(DeviceName.Parse("MX7-Dock"), 0x1111, "tcp");

        var second = registry.TryCreate(DeviceName.Parse("mx7-dock"), 0x2222, "usb");

        Assert.NotNull(first);
        Assert.Null(second);
        var kept = registry.Find(DeviceName.Parse("MX7-DOCK"));
        Assert.NotNull(kept);
        Assert.Equal(0x1111u, kept.Number);
        Assert.Equal("MX7-Dock", kept.Name);
        Assert.Equal(first.Secret, kept.Secret);
        Assert.Single(registry.List());
    }

    [Fact]
    public async Task P5_two_connections_racing_for_one_name_end_with_exactly_one_partnership()
    {
        using var one = Open();
        using var two = Open();
        var names = Enumerable.Range(0, 40).Select(i => DeviceName.Parse($"race-{i}")).ToArray();

        var results = await Task.WhenAll(
            Task.Run(() => names.Select(n => one.TryCreate(n, 1, "one")).ToArray()),
            Task.Run(() => names.Select(n => two.TryCreate(n, 2, "two")).ToArray()));

        for (var i = 0; i < names.Length; i++)
        {
            Assert.True(results[0][i] is null ^ results[1][i] is null, $"{names[i]}: exactly one connection must win");
        }

        Assert.Equal(names.Length, one.List().Count);
    }

    [Fact]
    public async Task P5_two_hosts_sharing_the_database_racing_for_the_same_names_end_with_exactly_one_partnership_each()
    {
        // The other host is another process: its own CatalogDatabase, its own connections; only
        // the database's constraint stands between them. It spells the names in upper case.
        using var otherHost = CatalogDatabase.Open(_setting, _temp.Path);
        using var one = Open();
        using var two = PartnershipRegistry.Open(otherHost, _time);
        var names = Enumerable.Range(0, 60).Select(i => $"fleet-{i}").ToArray();
        using var start = new Barrier(2);

        var results = await Task.WhenAll(
            Task.Run(() =>
            {
                start.SignalAndWait();
                return names.Select(n => one.TryCreate(DeviceName.Parse(n), 1, "host one")).ToArray();
            }),
            Task.Run(() =>
            {
                start.SignalAndWait();
                return names.Select(n => two.TryCreate(DeviceName.Parse(n.ToUpperInvariant()), 2, "host two")).ToArray();
            }));

        for (var i = 0; i < names.Length; i++)
        {
            Assert.True(results[0][i] is null ^ results[1][i] is null, $"{names[i]}: exactly one host must win");
            var kept = one.Find(DeviceName.Parse(names[i]));
            Assert.Equal(results[0][i] is null ? 2u : 1u, kept?.Number);
        }

        Assert.Equal(names.Length, one.List().Count);
        Assert.Equal(names.Length, two.List().Count);
    }

    [Fact]
    public void Find_is_case_insensitive()
    {
        using var registry = Open();
        registry.TryCreate(DeviceName.Parse("Scanner-A"), 0x42, "tcp");

        Assert.Equal(0x42u, registry.Find(DeviceName.Parse("scanner-a"))?.Number);
        Assert.Equal(0x42u, registry.Find(DeviceName.Parse("SCANNER-A"))?.Number);
        Assert.Null(registry.Find(DeviceName.Parse("Scanner-B")));
    }

    [Fact]
    public void Forget_removes_the_partnership_and_frees_the_name()
    {
        using var registry = Open();
        registry.TryCreate(DeviceName.Parse("MX7"), 0x1111, "tcp");

        Assert.True(registry.Forget(DeviceName.Parse("mx7")));
        Assert.False(registry.Forget(DeviceName.Parse("mx7")));

        Assert.Null(registry.Find(DeviceName.Parse("MX7")));
        Assert.Empty(registry.List());
        Assert.Equal(0x2222u, registry.TryCreate(DeviceName.Parse("MX7"), 0x2222, "tcp")?.Number);
    }

    [Fact]
    public void P4_partnerships_survive_reopening_the_database()
    {
        HostPartnership created;
        using (var registry = Open())
        {
            created = registry.TryCreate(DeviceName.Parse("MX7"), 0xCAFE, "usb")!;
            registry.TryCreate(DeviceName.Parse("Other"), 0xBEEF, "tcp");
        }

        using var reopened = Open();
        var found = reopened.Find(DeviceName.Parse("MX7"));
        Assert.NotNull(found);
        Assert.Equal(created.Number, found.Number);
        Assert.Equal(created.Secret, found.Secret);
        Assert.Equal(created.Created, found.Created);
        Assert.Equal("usb", found.LastLink);
        Assert.Equal(new[] { "MX7", "Other" }, reopened.List().Select(p => p.Name));
    }

    [Fact]
    public void RecordSeen_updates_last_seen_last_backup_and_link()
    {
        using var registry = Open();
        var device = DeviceName.Parse("MX7");
        registry.TryCreate(device, 1, "tcp");

        _time.Now = Now.AddHours(1);
        registry.RecordSeen(device, "usb", backedUp: false);
        var seen = registry.Find(device)!;
        Assert.Equal(Now.AddHours(1), seen.LastSeen);
        Assert.Null(seen.LastBackup);
        Assert.Equal("usb", seen.LastLink);

        _time.Now = Now.AddHours(2);
        registry.RecordSeen(device, "serial", backedUp: true);
        var backedUp = registry.Find(device)!;
        Assert.Equal(Now.AddHours(2), backedUp.LastSeen);
        Assert.Equal(Now.AddHours(2), backedUp.LastBackup);
        Assert.Equal("serial", backedUp.LastLink);
        Assert.Equal(Now, backedUp.Created);
    }

    [Fact]
    public void The_host_identity_is_made_once_and_kept()
    {
        (byte[] Id, string Name) first;
        using (var registry = Open())
        {
            first = registry.GetOrCreateIdentity("depot-pc");
        }

        using var reopened = Open();
        var again = reopened.GetOrCreateIdentity(null);
        Assert.Equal(16, first.Id.Length);
        Assert.Equal(first.Id, again.Id);
        Assert.Equal("depot-pc", again.Name);
        Assert.Equal("renamed", reopened.GetOrCreateIdentity("renamed").Name);
        Assert.Equal(first.Id, reopened.GetOrCreateIdentity(null).Id);
    }

    [Fact]
    public async Task The_registry_shares_the_host_database_with_the_store_catalog()
    {
        var store = await ChunkStore.OpenAsync(_temp.Path, database: _database);
        using (var registry = PartnershipRegistry.Open(store.Database))
        {
            registry.TryCreate(DeviceName.Parse("MX7"), 7, "tcp");
        }

        var reopened = await ChunkStore.OpenAsync(_temp.Path, database: _database);
        using var catalog = reopened.OpenCatalog();
        using var again = PartnershipRegistry.Open(reopened.Database);
        Assert.Equal(7u, again.Find(DeviceName.Parse("MX7"))?.Number);
        Assert.Empty(catalog.ListSnapshots());
    }

    [Fact]
    public void A_registry_of_an_unknown_schema_version_is_refused()
    {
        using (Open())
        {
        }

        using (var connection = _database.OpenConnection())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE meta SET value = '7' WHERE key = 'registry_schema'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var e = Assert.Throws<StoreFormatException>(Open);
        Assert.Contains("schema version 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pending_approvals_are_added_decided_read_and_removed()
    {
        using var registry = Open();
        registry.Add(new PendingPartnership("123456", "MX7", 0x1234, "10.0.0.2:40000", Now, PendingState.Waiting));
        registry.Add(new PendingPartnership("654321", "MX8", 0x5678, "10.0.0.3:40000", Now.AddSeconds(1), PendingState.Waiting));

        Assert.Equal(PendingState.Waiting, registry.GetState("123456"));
        var waiting = registry.ListPending();
        Assert.Equal(new[] { "123456", "654321" }, waiting.Select(p => p.Code));
        Assert.Equal(new PendingPartnership("123456", "MX7", 0x1234, "10.0.0.2:40000", Now, PendingState.Waiting), waiting[0]);

        Assert.True(registry.Decide("123456", PendingState.Approved));
        Assert.True(registry.Decide("654321", PendingState.Denied));
        Assert.Equal(PendingState.Approved, registry.GetState("123456"));
        Assert.Equal(PendingState.Denied, registry.GetState("654321"));
        Assert.Empty(registry.ListPending());

        // A decision is final, and an unknown code has nothing to decide.
        Assert.False(registry.Decide("123456", PendingState.Denied));
        Assert.Equal(PendingState.Approved, registry.GetState("123456"));
        Assert.False(registry.Decide("000000", PendingState.Approved));
        Assert.Null(registry.GetState("000000"));

        registry.Remove("123456");
        Assert.Null(registry.GetState("123456"));
        Assert.Equal(PendingState.Denied, registry.GetState("654321"));
    }

    [Fact]
    public void A_decision_made_through_another_connection_is_seen_by_the_waiting_one()
    {
        // `cradle host approve` runs in another process while the host session waits.
        using var host = Open();
        using var operatorCli = Open();
        host.Add(new PendingPartnership("111222", "MX7", 1, "addr", Now, PendingState.Waiting));

        Assert.True(operatorCli.Decide("111222", PendingState.Approved));

        Assert.Equal(PendingState.Approved, host.GetState("111222"));
    }

    [Fact]
    public async Task A_restore_grant_spent_by_two_hosts_at_once_is_spent_once()
    {
        // Each round: one grant, two hosts (own connections) trying to spend it at the same moment.
        using var otherHost = CatalogDatabase.Open(_setting, _temp.Path);
        using var one = Open();
        using var two = PartnershipRegistry.Open(otherHost, _time);
        const int Rounds = 40;
        using var start = new Barrier(2);
        var sources = Enumerable.Range(0, Rounds).Select(i => DeviceName.Parse($"src-{i}")).ToArray();
        var guest = DeviceName.Parse("guest");
        foreach (var source in sources)
        {
            one.AllowRestore(source, guest, TimeSpan.FromMinutes(10));
        }

        bool[] Spend(PartnershipRegistry registry) => [.. sources.Select(source =>
        {
            start.SignalAndWait();
            return registry.TryUseGrant(source, guest);
        })];

        var results = await Task.WhenAll(Task.Run(() => Spend(one)), Task.Run(() => Spend(two)));

        for (var i = 0; i < Rounds; i++)
        {
            Assert.True(results[0][i] ^ results[1][i], $"round {i}: the grant must be spent exactly once ({results[0][i]}, {results[1][i]})");
        }
    }

    [Fact]
    public void A_restore_grant_is_used_once_and_expires()
    {
        using var registry = Open();
        var source = DeviceName.Parse("MX7-01");
        var guest = DeviceName.Parse("mx7-02");
        registry.AllowRestore(source, guest, TimeSpan.FromMinutes(10));

        Assert.False(registry.TryUseGrant(source, DeviceName.Parse("OTHER")));
        Assert.False(registry.TryUseGrant(DeviceName.Parse("OTHER"), guest));
        Assert.True(registry.HasGrant(source, guest));
        Assert.True(registry.TryUseGrant(source, DeviceName.Parse("MX7-02")));
        Assert.False(registry.TryUseGrant(source, guest));

        registry.AllowRestore(source, guest, TimeSpan.FromMinutes(10));
        _time.Now = Now.AddMinutes(11);
        Assert.False(registry.HasGrant(source, guest));
        Assert.False(registry.TryUseGrant(source, guest));
    }

    [Fact]
    public void Reclaim_keeps_the_record_and_its_creation_and_changes_number_and_secret()
    {
        using var registry = Open();
        var name = DeviceName.Parse("MX7");
        var verifier = new byte[32];
        verifier[0] = 7;
        var created = registry.TryCreate(name, 0x1234, "network", verifier)!;

        _time.Now = Now.AddDays(3);
        Assert.Null(registry.Reclaim(name, 0x9999, 0x5678, "network"));
        var secret = registry.Reclaim(name, 0x1234, 0x5678, "network");

        Assert.NotNull(secret);
        var record = registry.Find(name)!;
        Assert.Equal(0x5678u, record.Number);
        Assert.Equal(secret, record.Secret);
        Assert.NotEqual(created.Secret, record.Secret);
        Assert.Equal(created.Created, record.Created);
        Assert.Equal(verifier, record.RecoveryVerifier);
    }

    [Fact]
    public void A_new_partnership_stays_unconfirmed_until_the_device_confirms_its_own_number()
    {
        var name = DeviceName.Parse("MX7");
        using (var registry = Open())
        {
            Assert.False(registry.TryCreate(name, 0x1234, "usb")!.Confirmed);
            Assert.False(registry.Find(name)!.Confirmed);

            Assert.False(registry.Confirm(name, 0x9999));
            Assert.False(registry.Find(name)!.Confirmed);
            Assert.True(registry.Confirm(DeviceName.Parse("mx7"), 0x1234));
            Assert.False(registry.Confirm(DeviceName.Parse("MX8"), 0x1234));
        }

        using var reopened = Open();
        Assert.True(reopened.Find(name)!.Confirmed);
    }

    [Fact]
    public void An_unconfirmed_partnership_is_replaced_with_a_new_number_secret_and_creation_a_confirmed_one_never()
    {
        using var registry = Open();
        var name = DeviceName.Parse("MX7");
        var lost = registry.TryCreate(name, 0x1111, "network")!;

        _time.Now = Now.AddMinutes(5);
        Assert.Null(registry.TryReplaceUnconfirmed(name, 0x9999, 0x2222, "usb"));
        var verifier = new byte[32];
        verifier[0] = 9;
        var replaced = registry.TryReplaceUnconfirmed(DeviceName.Parse("mx7"), 0x1111, 0x2222, "usb", verifier);

        Assert.NotNull(replaced);
        var record = registry.Find(name)!;
        Assert.Equal((0x2222u, "mx7", "usb", false), (record.Number, record.Name, record.LastLink, record.Confirmed));
        Assert.Equal(replaced.Secret, record.Secret);
        Assert.NotEqual(lost.Secret, record.Secret);
        Assert.Equal(Now.AddMinutes(5), record.Created);
        Assert.Equal(verifier, record.RecoveryVerifier);
        Assert.Single(registry.List());

        Assert.True(registry.Confirm(name, 0x2222));
        Assert.Null(registry.TryReplaceUnconfirmed(name, 0x2222, 0x3333, "usb"));
        Assert.Equal(replaced.Secret, registry.Find(name)!.Secret);
    }

    [Fact]
    public async Task A_confirmation_racing_a_replacement_on_another_host_ends_with_exactly_one_of_them()
    {
        using var otherHost = CatalogDatabase.Open(_setting, _temp.Path);
        using var one = Open();
        using var two = PartnershipRegistry.Open(otherHost, _time);
        var names = Enumerable.Range(0, 60).Select(i => DeviceName.Parse($"pair-{i}")).ToArray();
        foreach (var name in names)
        {
            one.TryCreate(name, 1, "network");
        }

        using var start = new Barrier(2);
        var results = await Task.WhenAll(
            Task.Run(() =>
            {
                start.SignalAndWait();
                return names.Select(n => one.Confirm(n, 1)).ToArray();
            }),
            Task.Run(() =>
            {
                start.SignalAndWait();
                return names.Select(n => two.TryReplaceUnconfirmed(n, 1, 2, "network") is not null).ToArray();
            }));

        for (var i = 0; i < names.Length; i++)
        {
            Assert.True(results[0][i] ^ results[1][i], $"{names[i]}: exactly one of confirm and replace must win");
            var kept = one.Find(names[i])!;
            Assert.Equal(results[0][i] ? (1u, true) : (2u, false), (kept.Number, kept.Confirmed));
        }
    }

    [Fact]
    public void A_schema_2_registry_migrates_to_4_and_its_partnerships_stay_confirmed()
    {
        using (var registry = Open())
        {
            registry.TryCreate(DeviceName.Parse("MX7"), 0x1234, "usb");
        }

        // Schema 2 is schema 4 without confirmations and pending outcomes (a build that knew neither).
        using (var connection = _database.OpenConnection())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE partnerships DROP COLUMN confirmed";
            command.ExecuteNonQuery();
            command.CommandText = "ALTER TABLE pending DROP COLUMN outcome";
            command.ExecuteNonQuery();
            command.CommandText = "ALTER TABLE pending DROP COLUMN ended_ms";
            command.ExecuteNonQuery();
            command.CommandText = "UPDATE meta SET value = '2' WHERE key = 'registry_schema'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        using var migrated = Open();
        var record = migrated.Find(DeviceName.Parse("MX7"))!;
        Assert.Equal((0x1234u, true), (record.Number, record.Confirmed));
        Assert.Null(migrated.TryReplaceUnconfirmed(DeviceName.Parse("MX7"), 0x1234, 0x2222, "usb"));
        using (var connection = _database.OpenConnection())
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = 'registry_schema'";
            Assert.Equal("4", command.ExecuteScalar());
        }

        Assert.False(migrated.TryCreate(DeviceName.Parse("MX8"), 0x5678, "usb")!.Confirmed);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
