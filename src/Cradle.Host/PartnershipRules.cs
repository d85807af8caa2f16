using Cradle.Protocol;
using RefusalClass = Cradle.Protocol.Messages.RefusalClass;

namespace Cradle.Host;

/// <summary>
/// The host's side of the partnership rules, as pure decisions over the registry's record, so
/// each rule is tested by id without sockets (the session carries them out).
/// </summary>
public static class PartnershipRules
{
    /// <summary>How many partnerships a device may hold (P3).</summary>
    public const int MaxSlotsPerDevice = 2;

    /// <summary>
    /// A device with no partnership with this host asks for one with <paramref name="number"/>.
    /// Returns null when the host may create it (in place of <paramref name="existing"/> when that
    /// one is unconfirmed: its device never showed it holds the secret), else the refusal.
    /// </summary>
    public static Refusal? CanCreate(DeviceName name, uint number, uint partnershipsHeld, HostPartnership? existing, string hostName = "this host", bool allowReclaim = false)
    {
        if (!PartnershipNumber.IsValid(number))
        {
            return new Refusal(RefusalClass.P2, $"partnership number {number:X8} is not allowed (never 0 or FFFFFFFF)");
        }

        if (partnershipsHeld >= MaxSlotsPerDevice)
        {
            return new Refusal(RefusalClass.P3, $"{name} already holds {partnershipsHeld} partnerships, the most a device may hold, so {hostName} cannot make a third; ways out: connect as a guest (cradle device connect --guest; restore with the operator's consent: cradle device restore), cold-boot to end the newest partnership, or rename the device to end both");
        }

        // An unconfirmed record is a partnership whose secret never reached the device's storage
        // (the link dropped or the host died right after creating it): no device holds it, no
        // backup was made under it, so P5/P7 have nothing to protect and the request replaces it.
        if (existing is { Confirmed: true })
        {
            return new Refusal(RefusalClass.P5, NameTaken(name, existing, hostName, allowReclaim));
        }

        return null;
    }

    /// <summary>
    /// The P5/P7 refusal: what happened (the host, the name, the number it holds) and every way
    /// out. The device adds which of its own partnerships a rename would end.
    /// </summary>
    public static string NameTaken(DeviceName name, HostPartnership existing, string hostName, bool allowReclaim) =>
        $"host {hostName} already has a partnership with a device named {existing.Name} (number {new PartnershipNumber(existing.Number)}, made {existing.Created:yyyy-MM-dd}), and a name partners with a host only once. "
        + $"If this device is that {existing.Name} and lost the partnership in a cold boot, ways out: "
        + "(1) rename this device (cradle device name NEW) and connect again — a rename ends every partnership the device holds; "
        + $"(2) ask the operator of {hostName} to release the name (cradle host forget {existing.Name} --keep-backups, the old backups stay restorable); "
        + (allowReclaim
            ? (existing.RecoveryVerifier is null
                ? $"(3) reclaim is allowed on {hostName}, but its record of {existing.Name} predates recovery keys, so only (1) or (2) apply"
                : "(3) reclaim: this host allows it, but this device did not prove the recovery key it partnered with")
            : $"(3) ask the operator of {hostName} to allow reclaim (cradle host run --allow-reclaim): this device then proves its recovery key and takes its old record back, same name, same history, no rename");

    /// <summary>
    /// A device claims partnership <paramref name="number"/>. Returns null when the claim names
    /// the host's record; the secret is checked after this.
    /// </summary>
    public static Refusal? CanAuthenticate(DeviceName name, uint number, HostPartnership? existing)
    {
        if (!PartnershipNumber.IsValid(number))
        {
            return new Refusal(RefusalClass.P2, $"partnership number {number:X8} is not allowed (never 0 or FFFFFFFF)");
        }

        if (existing is null)
        {
            return new Refusal(RefusalClass.P4, $"this host has no partnership with {name}: its operator removed it (cradle host forget); on the device, end the stale partnership by renaming it, then partner again");
        }

        if (existing.Number != number)
        {
            return new Refusal(RefusalClass.P5, $"this host's partnership with {existing.Name} has number {new PartnershipNumber(existing.Number)}, not {new PartnershipNumber(number)}; two devices cannot share a name: rename this device");
        }

        return null;
    }
}

/// <summary>A refusal: the rule it rests on and what the user can do, in plain words.</summary>
public sealed record Refusal(RefusalClass Class, string Message)
{
    /// <summary>The rule's id ("P5"), as the logs and the wire's text name it.</summary>
    public string Rule => Refusals.Rule(Class);
}
