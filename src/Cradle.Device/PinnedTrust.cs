using System.Runtime.InteropServices;

namespace Cradle.Device;

/// <summary>
/// The device trusts no certificate authority: it pins its host's certificate (P2). .NET still
/// builds a certificate chain during every TLS handshake, and on Linux that reads the whole
/// system store (hundreds of files in /etc/ssl/certs: ~0.1 s of a 0.4 s unchanged backup, and
/// the CPU of a handheld). Pointing OpenSSL's store variables at nothing before the first
/// handshake skips that read. Only the device process does this; the host keeps the system
/// store for what it connects to.
/// </summary>
internal static partial class PinnedTrust
{
    private static int _applied;

    /// <summary>Sets SSL_CERT_FILE and SSL_CERT_DIR to empty places (the device has no use for the system's).</summary>
    public static void Apply()
    {
        if (OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() || Interlocked.Exchange(ref _applied, 1) == 1)
        {
            return;
        }

        // The native environment, which OpenSSL reads (Environment.SetEnvironmentVariable only
        // changes .NET's own copy). Overwritten even when set: many systems set them for every
        // process, and no CA may vouch for a host anyway.
        _ = setenv("SSL_CERT_FILE", "/dev/null", 1);
        _ = setenv("SSL_CERT_DIR", "/nonexistent/cradle-pins-its-host", 1);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
