using System.Text;
using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

public class SessionProofTests
{
    private static readonly byte[] Secret = Bytes(32, 1);
    private static readonly byte[] Challenge = Bytes(32, 2);
    private static readonly byte[] CertHash = Bytes(32, 3);
    private static readonly byte[] DeviceNonce = Bytes(32, 4);
    private static readonly byte[] HostNonce = Bytes(32, 5);
    private static readonly DeviceName Device = DeviceName.Parse("MX7-0042");

    private static byte[] Bytes(int length, byte seed) => Enumerable.Range(0, length).Select(i => unchecked((byte)((i * 31) + seed))).ToArray();

    [Fact]
    public void P2_a_proof_of_the_right_secret_verifies()
    {
        var proof = SessionProof.Compute(Secret, Challenge, CertHash, Device);
        Assert.Equal(32, proof.Length);
        Assert.True(SessionProof.Verify(Secret, Challenge, CertHash, Device, proof));
    }

    [Fact]
    public void P2_the_proof_does_not_depend_on_the_spelling_of_the_name()
    {
        var proof = SessionProof.Compute(Secret, Challenge, CertHash, DeviceName.Parse("mx7-0042"));
        Assert.True(SessionProof.Verify(Secret, Challenge, CertHash, Device, proof));
    }

    [Fact]
    public void P2_a_proof_made_with_a_wrong_secret_fails()
    {
        var wrong = (byte[])Secret.Clone();
        wrong[^1] ^= 1;
        var proof = SessionProof.Compute(wrong, Challenge, CertHash, Device);
        Assert.False(SessionProof.Verify(Secret, Challenge, CertHash, Device, proof));
    }

    [Fact]
    public void A_proof_for_another_challenge_fails_no_replay()
    {
        var proof = SessionProof.Compute(Secret, Bytes(32, 9), CertHash, Device);
        Assert.False(SessionProof.Verify(Secret, Challenge, CertHash, Device, proof));
    }

    [Fact]
    public void A_proof_for_another_certificate_fails_no_man_in_the_middle()
    {
        var proof = SessionProof.Compute(Secret, Challenge, Bytes(32, 7), Device);
        Assert.False(SessionProof.Verify(Secret, Challenge, CertHash, Device, proof));
    }

    [Fact]
    public void A_proof_for_another_device_name_fails()
    {
        var proof = SessionProof.Compute(Secret, Challenge, CertHash, DeviceName.Parse("MX7-0043"));
        Assert.False(SessionProof.Verify(Secret, Challenge, CertHash, Device, proof));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void A_proof_of_the_wrong_length_fails(int length)
    {
        var proof = SessionProof.Compute(Secret, Challenge, CertHash, Device);
        var cut = new byte[length];
        proof.AsSpan(0, Math.Min(length, proof.Length)).CopyTo(cut);
        Assert.False(SessionProof.Verify(Secret, Challenge, CertHash, Device, cut));
    }

    [Fact]
    public void Proof_golden_value_is_hmac_sha256_of_label_challenge_cert_and_name_key()
    {
        using var hmac = new System.Security.Cryptography.HMACSHA256(Secret);
        var message = Encoding.ASCII.GetBytes("cradle-auth-v1").Concat(Challenge).Concat(CertHash).Concat(Encoding.ASCII.GetBytes("MX7-0042")).ToArray();
        Assert.Equal(hmac.ComputeHash(message), SessionProof.Compute(Secret, Challenge, CertHash, Device));
    }

    [Fact]
    public void ApprovalCode_is_six_digits_and_deterministic()
    {
        var code = SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, Device, 0x12345678);
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Equal(code, SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, DeviceName.Parse("mx7-0042"), 0x12345678));
    }

    [Fact]
    public void ApprovalCode_golden_value()
    {
        // Both screens compute this code independently: it is part of the protocol.
        Assert.Equal(GoldenCode, SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, Device, 0x12345678));
    }

    // Computed independently: SHA-256("cradle-code-v2" | cert | device nonce | host nonce | "MX7-0042" | BE32(number)), first 4 bytes BE mod 10^6.
    private const string GoldenCode = "658135";

    [Fact]
    public void ApprovalCode_changes_with_the_certificate_hash()
    {
        var code = SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, Device, 0x12345678);
        for (byte seed = 10; seed < 20; seed++)
        {
            Assert.NotEqual(code, SessionProof.ApprovalCode(Bytes(32, seed), DeviceNonce, HostNonce, Device, 0x12345678));
        }
    }

    [Fact]
    public void ApprovalCode_changes_with_the_number_either_nonce_and_the_name()
    {
        var code = SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, Device, 0x12345678);
        Assert.NotEqual(code, SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, Device, 0x12345679));
        Assert.NotEqual(code, SessionProof.ApprovalCode(CertHash, Bytes(32, 9), HostNonce, Device, 0x12345678));
        Assert.NotEqual(code, SessionProof.ApprovalCode(CertHash, DeviceNonce, Bytes(32, 9), Device, 0x12345678));
        Assert.NotEqual(code, SessionProof.ApprovalCode(CertHash, DeviceNonce, HostNonce, DeviceName.Parse("MX7-0043"), 0x12345678));
    }

    [Fact]
    public void P9_a_reclaim_proof_verifies_only_with_the_same_key_host_certificate_challenge_and_number()
    {
        var hostId = Bytes(16, 6);
        var verifier = SessionProof.RecoveryVerifier(Secret, hostId, CertHash, Device);
        var proof = SessionProof.ReclaimProof(verifier, Challenge, CertHash, Device, 0x1234);

        Assert.True(SessionProof.VerifyReclaim(verifier, Challenge, CertHash, Device, 0x1234, proof));
        Assert.False(SessionProof.VerifyReclaim(verifier, Bytes(32, 9), CertHash, Device, 0x1234, proof));
        Assert.False(SessionProof.VerifyReclaim(verifier, Challenge, CertHash, Device, 0x1235, proof));
        Assert.False(SessionProof.VerifyReclaim(verifier, Challenge, Bytes(32, 9), Device, 0x1234, proof));
        var otherKey = SessionProof.RecoveryVerifier(Bytes(32, 8), hostId, CertHash, Device);
        Assert.False(SessionProof.VerifyReclaim(otherKey, Challenge, CertHash, Device, 0x1234, proof));

        // Each host (id and certificate) gets its own verifier, none of them the key.
        Assert.NotEqual(verifier, SessionProof.RecoveryVerifier(Secret, Bytes(16, 7), CertHash, Device));
        Assert.NotEqual(verifier, SessionProof.RecoveryVerifier(Secret, hostId, Bytes(32, 9), Device));
        Assert.NotEqual(Secret, verifier);
    }
}
