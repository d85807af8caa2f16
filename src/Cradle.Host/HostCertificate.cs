using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// The host's self-signed TLS certificate, made on first start and kept in the catalog (meta
/// <c>host_certificate</c>), so that every host sharing the catalog presents the same one and
/// a device pinned to it (P2) backs up through any of them. A host folder from before 0.5 kept
/// it in <c>host.pfx</c> (readable by its owner only): that one moves into the catalog the
/// first time, so its devices keep their pin; the file is then left alone.
/// </summary>
public static class HostCertificate
{
    public const string FileName = "host.pfx";

    public static X509Certificate2 LoadOrCreate(PartnershipRegistry registry, string folder, string hostName)
    {
        var pkcs12 = registry.GetOrAddCertificate(() =>
        {
            var path = Path.Combine(folder, FileName);
            return File.Exists(path) ? File.ReadAllBytes(path) : Create(hostName);
        });
        return X509CertificateLoader.LoadPkcs12(pkcs12, password: null, X509KeyStorageFlags.EphemeralKeySet);
    }

    private static byte[] Create(string hostName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=cradle host {Sanitize(hostName)}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
        return created.Export(X509ContentType.Pkcs12);
    }

    public static byte[] Hash(X509Certificate2 certificate) => SHA256.HashData(certificate.RawData);

    private static string Sanitize(string name) =>
        new(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_').Take(60).ToArray());
}
