using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// The WM5 passwords of locked ActiveSync devices, one per device name, set by the operator
/// (<c>cradle host activesync-password</c>). Kept in the registry's meta table, so in the host's
/// private database (0600) and never in a log or a command line.
/// </summary>
public sealed partial class PartnershipRegistry
{
    private static string PasswordKey(DeviceName device) => $"activesync_password:{device.Key}";

    /// <summary>Sets the password the host sends when <paramref name="device"/> connects locked; null removes it. False when there was none to remove.</summary>
    public bool SetActiveSyncPassword(DeviceName device, string? password)
    {
        if (password is null)
        {
            using var command = Command("DELETE FROM meta WHERE key = @k");
            command.AddParameter("@k", PasswordKey(device));
            return command.ExecuteNonQuery() == 1;
        }

        ArgumentException.ThrowIfNullOrEmpty(password);
        SetMetaValue(PasswordKey(device), password);
        return true;
    }

    /// <summary>The password the operator set for <paramref name="device"/>, or null.</summary>
    internal string? ActiveSyncPassword(DeviceName device) => MetaValue(PasswordKey(device));
}
