using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cradle.Tests;

/// <summary>Certificates for the tests' own TLS servers (refusing, hostile, stray hosts).</summary>
public static class TestCertificates
{
    /// <summary>
    /// A fresh self-signed P-256 certificate for <paramref name="subject"/> (e.g. "CN=hostile host"),
    /// valid from yesterday to tomorrow, with its private key, loaded so SslStream can serve it.
    /// </summary>
    public static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var made = new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        // Through PKCS#12: on Linux the key of a certificate made in memory is not usable by SslStream as it is.
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
    }
}
