using Cradle.Host.ActiveSync;
using Cradle.Protocol;

namespace Cradle.Host;

/// <summary>
/// Renaming a cradled ActiveSync device from the host (P8, and P5's one-step way out for a fleet
/// of devices under one default name): the host writes the new name into the device's
/// <c>HKLM\Ident\Name</c>, ends the partnerships it holds (its <c>Partners</c> slots), and
/// triggers it again so that it partners under the new name without being unplugged.
/// </summary>
public sealed partial class HostService
{
    /// <summary>
    /// Renames the connected device named <paramref name="device"/> (the one connected from
    /// <paramref name="connection"/> when given) to <paramref name="newName"/>. Refused without
    /// <paramref name="consent"/> (P8: it ends every partnership the device holds), when the new
    /// name is the old one, when this host already holds a partnership under the new name
    /// (<see cref="ActiveSyncRefusedException"/>, P5), and when the device is not connected
    /// (<see cref="ActiveSyncDeviceUnavailableException"/>). A refused device (P5/P7) and a guest
    /// (P3) may be renamed: that is the way out of their refusal.
    /// </summary>
    public async Task<DeviceRenameResult> RenameActiveSyncDeviceAsync(DeviceName device, string? connection, DeviceName newName, bool consent, CancellationToken cancellationToken)
    {
        if (!consent)
        {
            throw new ArgumentException($"renaming {device} ends every partnership it holds (P8: a partnership is defined by the name), with this host and any other; the operator must consent (cradle host rename-device --yes, or consent in the request)");
        }

        if (newName.Key == device.Key)
        {
            throw new ArgumentException($"{device} is already called {newName} (names compare ignoring case)");
        }

        RefuseHeldName(newName);
        if (!ActiveSyncDevices.TryReserveName(newName))
        {
            throw new ActiveSyncRefusedException("P5", $"another device is being renamed, or was just renamed, to {newName} and has not partnered under it yet: two devices with one name can never both partner with this host (P5); choose another name");
        }

        var written = false;
        try
        {
            var session = ActiveSyncDevices.Find(device, allowGuest: true, connection);
            var job = new RenameJob(newName, cancellationToken);
            if (!session.TryQueue(job))
            {
                throw new ActiveSyncDeviceUnavailableException($"{device} left before the rename could start");
            }

            var result = await job.Done.Task.ConfigureAwait(false);
            written = true;
            return result;
        }
        finally
        {
            // Kept once the device carries the name, until it partners under it (ActiveSyncSession releases it then).
            if (!written)
            {
                ActiveSyncDevices.ReleaseName(newName);
            }
        }
    }

    /// <summary>P5: a name this host already holds (with any number) cannot be given to another device.</summary>
    internal void RefuseHeldName(DeviceName newName)
    {
        using var registry = PartnershipRegistry.Open(Store.Database, _options.Time);
        if (registry.Find(newName) is { } held)
        {
            throw new ActiveSyncRefusedException("P5", $"this host already holds a partnership with a device named {held.Name} (number {new PartnershipNumber(held.Number)}): two devices with one name can never both partner with it (P5); choose another name, or release that one first (cradle host forget {held.Name} --keep-backups)");
        }
    }
}
