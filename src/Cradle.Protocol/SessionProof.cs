using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Cradle.Protocol;

/// <summary>
/// The cryptography both sides compute the same way: the proof of a partnership secret and
/// the short code the operator compares when a partnership is made over the network.
/// </summary>
public static class SessionProof
{
    /// <summary>
    /// HMAC-SHA256(secret, "cradle-auth-v1" | challenge | host certificate hash | device name key).
    /// Bound to the host's fresh challenge (no replay) and to the certificate the device saw
    /// (a proof shown to a man in the middle is useless at the real host).
    /// </summary>
    public static byte[] Compute(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> hostCertificateHash, DeviceName device)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData("cradle-auth-v1"u8);
        hmac.AppendData(challenge);
        hmac.AppendData(hostCertificateHash);
        hmac.AppendData(Encoding.ASCII.GetBytes(device.Key));
        return hmac.GetHashAndReset();
    }

    public static bool Verify(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> hostCertificateHash, DeviceName device, ReadOnlySpan<byte> proof)
    {
        var expected = Compute(secret, challenge, hostCertificateHash, device);
        try
        {
            return CryptographicOperations.FixedTimeEquals(expected, proof);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    /// <summary>
    /// What a host keeps to check a later reclaim (P9): HMAC-SHA256(recovery key,
    /// "cradle-recovery-v1" | host id | host certificate hash | device name key). One-way: the
    /// host learns nothing of the key, and the value is useless at any other host (other id,
    /// other certificate) — including a man in the middle, who shows his own certificate.
    /// </summary>
    public static byte[] RecoveryVerifier(ReadOnlySpan<byte> recoveryKey, ReadOnlySpan<byte> hostId, ReadOnlySpan<byte> hostCertificateHash, DeviceName device)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, recoveryKey);
        hmac.AppendData("cradle-recovery-v1"u8);
        hmac.AppendData(hostId);
        hmac.AppendData(hostCertificateHash);
        hmac.AppendData(Encoding.ASCII.GetBytes(device.Key));
        return hmac.GetHashAndReset();
    }

    /// <summary>
    /// The reclaim proof: HMAC-SHA256(verifier, "cradle-reclaim-v1" | challenge | host
    /// certificate hash | device name key | new number, big-endian). Fresh per challenge (no
    /// replay), bound to the certificate the device saw (useless when relayed).
    /// </summary>
    public static byte[] ReclaimProof(ReadOnlySpan<byte> verifier, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> hostCertificateHash, DeviceName device, uint number)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, verifier);
        hmac.AppendData("cradle-reclaim-v1"u8);
        hmac.AppendData(challenge);
        hmac.AppendData(hostCertificateHash);
        hmac.AppendData(Encoding.ASCII.GetBytes(device.Key));
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(n, number);
        hmac.AppendData(n);
        return hmac.GetHashAndReset();
    }

    public static bool VerifyReclaim(ReadOnlySpan<byte> verifier, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> hostCertificateHash, DeviceName device, uint number, ReadOnlySpan<byte> proof)
    {
        var expected = ReclaimProof(verifier, challenge, hostCertificateHash, device, number);
        try
        {
            return CryptographicOperations.FixedTimeEquals(expected, proof);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    /// <summary>The commitment a device sends before it sees the host's nonce: SHA-256 of its own.</summary>
    public static byte[] Commit(ReadOnlySpan<byte> deviceNonce) => SHA256.HashData(deviceNonce);

    /// <summary>
    /// Six digits both screens show for a new partnership. They depend on the certificate the
    /// device saw and on both sides' nonces. The device committed to its nonce before it saw
    /// the host's, and the host chose its nonce before it saw the device's, so a man in the
    /// middle cannot steer the two codes he sets up to match: he wins one time in a million.
    /// </summary>
    public static string ApprovalCode(ReadOnlySpan<byte> hostCertificateHash, ReadOnlySpan<byte> deviceNonce, ReadOnlySpan<byte> hostNonce, DeviceName device, uint number)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("cradle-code-v2"u8);
        hash.AppendData(hostCertificateHash);
        hash.AppendData(deviceNonce);
        hash.AppendData(hostNonce);
        hash.AppendData(Encoding.ASCII.GetBytes(device.Key));
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(n, number);
        hash.AppendData(n);
        var digest = hash.GetHashAndReset();
        var value = BinaryPrimitives.ReadUInt32BigEndian(digest) % 1_000_000;
        return value.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A host certificate's fingerprint as the device and the host show it: its SHA-256, hex.
    /// The consent a device gives to a reclaim (which crosses no approval code) is checked against it.
    /// </summary>
    public static string Fingerprint(ReadOnlySpan<byte> hostCertificateHash) => Convert.ToHexStringLower(hostCertificateHash);

    /// <summary>Six digits of a certificate's fingerprint: what <c>--accept-new-host</c> takes for a reclaim (the full fingerprint is shown beside it).</summary>
    public static string CertificateCode(ReadOnlySpan<byte> hostCertificateHash)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("cradle-certificate-code-v1"u8);
        hash.AppendData(hostCertificateHash);
        var value = BinaryPrimitives.ReadUInt32BigEndian(hash.GetHashAndReset()) % 1_000_000;
        return value.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }
}
