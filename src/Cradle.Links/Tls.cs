using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cradle.Protocol;

namespace Cradle.Links;

/// <summary>
/// TLS on every session. The host presents a self-signed certificate; the device does not
/// trust a CA but pins the certificate's SHA-256 when the partnership is made, and checks it
/// on every later session (the caller compares <see cref="TlsSession.PeerCertificateHash"/>).
/// </summary>
public static class Tls
{
    private static readonly SslProtocols Protocols = SslProtocols.Tls13 | SslProtocols.Tls12;

    /// <summary>The device side: handshake and report which certificate the host showed.</summary>
    public static async Task<TlsSession> ConnectAsync(Stream link, CancellationToken cancellationToken)
    {
        byte[]? peerHash = null;
        string? subject = null;
        var ssl = new SslStream(link, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "cradle-host",
                EnabledSslProtocols = Protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    // Trust comes from the pin, checked by the caller before any secret is used.
                    if (certificate is null)
                    {
                        return false;
                    }

                    peerHash = SHA256.HashData(certificate.GetRawCertData());
                    subject = certificate.Subject;
                    return true;
                },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new LinkClosedException($"TLS handshake with the host failed: {Reasons(e)}", e);
        }

        return new TlsSession(ssl, peerHash ?? throw new CradleProtocolException("the host presented no certificate"), subject ?? "");
    }

    /// <summary>The host side: handshake with the host's certificate.</summary>
    public static async Task<SslStream> AcceptAsync(Stream link, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(link, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = Protocols,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new LinkClosedException($"TLS handshake with the device failed: {Reasons(e)}", e);
        }
    }

    /// <summary>
    /// The messages of an exception and its inner ones: .NET's outer message ("Authentication
    /// failed, see inner exception.") names no cause; OpenSSL's inner one does ("unsupported
    /// protocol", "decryption failed or bad record mac"), and the operator's log needs it.
    /// </summary>
    private static string Reasons(Exception e)
    {
        var messages = new List<string>();
        for (Exception? inner = e; inner is not null && messages.Count < 4; inner = inner.InnerException)
        {
            messages.Add(inner.Message);
        }

        return string.Join(" <- ", messages);
    }
}

/// <summary>A TLS stream, the SHA-256 of the certificate the peer presented, and the certificate's subject.</summary>
public sealed record TlsSession(SslStream Stream, byte[] PeerCertificateHash, string PeerSubject = "")
{
    /// <summary>The subject every Cradle host's certificate has (<c>CN=cradle host NAME</c>).</summary>
    public const string CradleSubjectPrefix = "CN=cradle host";

    /// <summary>True when the certificate is one a Cradle host makes.</summary>
    public bool LooksLikeCradleHost => PeerSubject.StartsWith(CradleSubjectPrefix, StringComparison.Ordinal);
}
