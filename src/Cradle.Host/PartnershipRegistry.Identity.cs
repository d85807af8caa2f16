using System.Data.Common;
using Cradle.Store;

namespace Cradle.Host;

public sealed partial class PartnershipRegistry
{
    /// <summary>
    /// The host's TLS certificate and key (PKCS#12) kept in the catalog, so that every host
    /// sharing it presents the one certificate devices pin (P2): a fleet is one host to its
    /// devices. <paramref name="candidate"/> makes it when the catalog has none yet; when hosts
    /// race, the first written wins and every one of them returns that one.
    /// </summary>
    public byte[] GetOrAddCertificate(Func<byte[]> candidate)
    {
        if (Scalar("SELECT value FROM meta WHERE key = 'host_certificate'") is { } stored)
        {
            return Convert.FromBase64String(stored);
        }

        using var tx = _connection.BeginTransaction();
        InsertMetaIfAbsent("host_certificate", Convert.ToBase64String(candidate()), tx);
        var value = Scalar("SELECT value FROM meta WHERE key = 'host_certificate'", tx)!;
        tx.Commit();
        return Convert.FromBase64String(value);
    }

    private void InsertMetaIfAbsent(string key, string value, DbTransaction tx)
    {
        using var command = Command("INSERT INTO meta(key, value) VALUES(@k, @v) ON CONFLICT(key) DO NOTHING", tx);
        command.AddParameter("@k", key);
        command.AddParameter("@v", value);
        command.ExecuteNonQuery();
    }
}
