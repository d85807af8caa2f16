using Cradle.ActiveSync;
using Cradle.ActiveSync.Partners;
using Cradle.ActiveSync.Rapi;
using Cradle.Protocol;
using RefusalClass = Cradle.Protocol.Messages.RefusalClass;

namespace Cradle.Host.ActiveSync;

/// <summary>
/// Partnerships the manual's way: the device keeps them in its registry (<c>Partners</c>:
/// <c>PCur</c>, <c>P1</c>/<c>P2</c> with <c>PId</c> and <c>PName</c>) as ActiveSync kept them, the
/// host in its registry like any device's, and the rules (P2–P7) are the same
/// <see cref="PartnershipRules"/> the agent sessions apply. Such a device has no secret to prove:
/// it is on a cable at the host, and the number it holds in a slot is what it shows.
/// </summary>
internal sealed partial class ActiveSyncSession
{
    private PartnershipRegistry OpenRegistry() => PartnershipRegistry.Open(host.Store.Database, options.Time);

    /// <summary>The name written to <c>PName</c>: the host's, cut to what the slot holds.</summary>
    private string SlotHostName => host.Name.Length <= ActiveSyncPartnerships.MaxHostNameChars ? host.Name : host.Name[..ActiveSyncPartnerships.MaxHostNameChars];

    private async Task PartnerAsync(RapiClient rapi, CancellationToken cancellationToken)
    {
        _live.SetPhase("partnership");
        var partners = await ActiveSyncPartnerships.ReadAsync(rapi, cancellationToken).ConfigureAwait(false);
        HostPartnership? existing;
        using (var registry = OpenRegistry())
        {
            existing = registry.Find(_device);
        }

        if (existing is not null && partners.Find(existing.Number) is { } held)
        {
            using (var registry = OpenRegistry())
            {
                // A record whose slot was written but not yet confirmed (the link dropped in between) is confirmed now.
                if (!existing.Confirmed && !registry.Confirm(_device, existing.Number))
                {
                    throw new SessionRefusedException(RefusalClass.P5, $"the record of {_device} changed while it connected; connect again");
                }

                registry.RecordSeen(_device, Link, backedUp: false);
            }

            if (partners.CurrentSlot != held.Slot)
            {
                await ActiveSyncPartnerships.SetCurrentSlotAsync(rapi, held.Slot, cancellationToken).ConfigureAwait(false);
            }

            _number = existing.Number;
            Standing = "partnered";
            ActiveSyncHostLog.Partnered(logger, Remote, _device.Value, new PartnershipNumber(_number).ToString(), held.Slot);
            return;
        }

        var number = PartnershipNumber.NewRandom(partners.Slots.Select(s => s.PartnerId)).Value;
        var refusal = PartnershipRules.CanCreate(_device, number, (uint)partners.Slots.Count, existing, host.Name);
        switch (refusal?.Class)
        {
            case null:
                break;
            case RefusalClass.P3:
                Standing = "guest";
                var others = string.Join(" and ", partners.Slots.Select(s => $"P{s.Slot} {DeviceText.Printable(s.HostName)}"));
                throw new SessionRefusedException(RefusalClass.P3, $"{_device} already holds two partnerships ({others}), the most a device may hold, so it is a guest here and nothing of it is backed up; to partner with {host.Name}, end one of them on the device (a cold boot ends the newest)");
            case RefusalClass.P5:
                Standing = "not-partnered";
                throw new SessionRefusedException(RefusalClass.P5, NameTaken(existing!));
            default:
                throw new SessionRefusedException(refusal.Class, refusal.Message);
        }

        var slot = partners.Slots.Any(s => s.Slot == 1) ? 2 : 1;
        using (var registry = OpenRegistry())
        {
            // An unconfirmed record is one whose slot never reached the device: replaced (CanCreate let it through).
            var created = existing is { Confirmed: false }
                ? registry.TryReplaceUnconfirmed(_device, existing.Number, number, Link)
                : registry.TryCreate(_device, number, Link);
            if (created is null)
            {
                Standing = "not-partnered";
                throw new SessionRefusedException(RefusalClass.P5, $"another device named {_device} partnered with {host.Name} a moment ago; rename this device");
            }
        }

        // The device's slot first, then the host's confirmation: a link that drops in between
        // leaves an unconfirmed record, which the device's next connection replaces or confirms.
        await ActiveSyncPartnerships.WriteSlotAsync(rapi, slot, number, SlotHostName, cancellationToken).ConfigureAwait(false);
        using (var registry = OpenRegistry())
        {
            if (!registry.Confirm(_device, number))
            {
                throw new SessionRefusedException(RefusalClass.P5, $"the record of {_device} changed while its partnership was made; connect again");
            }
        }

        _number = number;
        Standing = "partnered";

        // A name a rename reserved is held by the host's record from now on (P5 refuses it there).
        host.ActiveSyncDevices.ReleaseName(_device);
        ActiveSyncHostLog.PartnershipCreated(logger, Remote, _device.Value, new PartnershipNumber(number).ToString(), slot);
    }

    /// <summary>
    /// P5 and P7 in one message: the device does not hold the host's number for its name, so it is
    /// another device with that name, or this one lost the partnership in a cold boot (P6 ends the
    /// newest). Both end the same way: a rename, or the operator releases the name.
    /// </summary>
    private string NameTaken(HostPartnership existing) =>
        $"host {host.Name} already has a partnership with a device named {existing.Name} (number {new PartnershipNumber(existing.Number)}, made {existing.Created:yyyy-MM-dd}) and this device does not hold it: "
        + $"either another device carries the same name, or this one lost the partnership in a cold boot. A name partners with a host only once. Ways out: "
        + $"(1) rename this device from the host (cradle host rename-device {existing.Name} NEWNAME --yes --connection {Remote}, or Rename on the dashboard's Sessions page; it partners under the new name at once) or on the device (Settings > System > About > Device ID) and connect again; "
        + $"(2) if it is the same {existing.Name}, the operator releases the name (cradle host forget {existing.Name} --keep-backups; the old backups stay restorable, also onto the device)";
}
