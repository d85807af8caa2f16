using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// The host's self-signed TLS certificate, made on first start and kept in the host's folder
/// (<c>host.pfx</c>, readable by its owner only). Devices pin its SHA-256 when they partner.
/// </summary>
public static class HostCertificate
{
    public const string FileName = "host.pfx";

    public static X509Certificate2 LoadOrCreate(string folder, string hostName)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN=cradle host {Sanitize(hostName)}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            var now = DateTimeOffset.UtcNow;
            using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
            Durability.WriteAtomically(path, created.Export(X509ContentType.Pkcs12));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, password: null, X509KeyStorageFlags.EphemeralKeySet);
    }

    public static byte[] Hash(X509Certificate2 certificate) => SHA256.HashData(certificate.RawData);

    private static string Sanitize(string name) =>
        new(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_').Take(60).ToArray());
}
