using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cradle.Store;
using Cradle.Tests;

namespace Cradle.Host.Tests;

/// <summary>Hosts sharing one catalog are one host to their devices: id, name and certificate come from the catalog.</summary>
public sealed class FleetIdentityTestsOnSqlite() : FleetIdentityTests(CatalogKind.Sqlite);

public sealed class FleetIdentityTestsOnPostgres() : FleetIdentityTests(CatalogKind.Postgres);

public abstract class FleetIdentityTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly CatalogKind _kind;
    private readonly string _setting;
    private readonly List<CatalogDatabase> _databases = [];

    protected FleetIdentityTests(CatalogKind kind)
    {
        _kind = kind;
        _setting = TestCatalogs.NewSetting(kind);
    }

    public void Dispose()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }

        _temp.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A database object of its own per host, as separate processes have; SQLite: one file shared by every host folder.</summary>
    private CatalogDatabase Shared()
    {
        var database = _kind == CatalogKind.Sqlite ? CatalogDatabase.SqliteFile(_temp["shared.db"]) : CatalogDatabase.Open(_setting, _temp.Path);
        _databases.Add(database);
        return database;
    }

    private Task<HostService> OpenAsync(string folder, CatalogDatabase database, string? name = "depot") =>
        HostService.OpenAsync(new HostOptions { DataFolder = _temp[folder], Catalog = database, Name = name });

    [Fact]
    public async Task Six_hosts_starting_at_once_on_one_new_catalog_share_one_id_name_and_certificate()
    {
        var databases = Enumerable.Range(0, 6).Select(_ => Shared()).ToList();
        using var start = new Barrier(6);
        var hosts = await Task.WhenAll(databases.Select((d, i) => Task.Run(() =>
        {
            start.SignalAndWait();
            return OpenAsync($"host-{i}", d);
        })));
        try
        {
            var first = hosts[0];
            Assert.All(hosts, h =>
            {
                Assert.Equal(first.HostId, h.HostId);
                Assert.Equal("depot", h.Name);
                Assert.Equal(HostCertificate.Hash(first.Certificate), HostCertificate.Hash(h.Certificate));
                Assert.True(h.Certificate.HasPrivateKey);
            });
            Assert.All(hosts, h => Assert.False(File.Exists(Path.Combine(h.Store.Folder, HostCertificate.FileName)), "the key belongs in the catalog, not in one host's folder"));

            // Started again later, without a name: the same identity.
            await using var later = await OpenAsync("host-later", Shared(), name: null);
            Assert.Equal(first.HostId, later.HostId);
            Assert.Equal("depot", later.Name);
            Assert.Equal(HostCertificate.Hash(first.Certificate), HostCertificate.Hash(later.Certificate));
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_host_folder_from_before_keeps_its_certificate_and_the_hosts_joining_it_take_that_one()
    {
        // What 0.4 left in a host folder: host.pfx, and a catalog that does not hold the certificate.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var old = new CertificateRequest("CN=cradle host depot", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        Directory.CreateDirectory(_temp["old-host"]);
        File.WriteAllBytes(Path.Combine(_temp["old-host"], HostCertificate.FileName), old.Export(X509ContentType.Pkcs12));

        await using var upgraded = await OpenAsync("old-host", Shared());
        await using var joining = await OpenAsync("new-host", Shared());

        Assert.Equal(HostCertificate.Hash(old), HostCertificate.Hash(upgraded.Certificate));
        Assert.Equal(HostCertificate.Hash(old), HostCertificate.Hash(joining.Certificate));
    }
}
