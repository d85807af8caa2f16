using Cradle.Protocol;

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
    /// Returns null when the host may create it, else the refusal.
    /// </summary>
    public static Refusal? CanCreate(DeviceName name, uint number, uint partnershipsHeld, HostPartnership? existing)
    {
        if (!PartnershipNumber.IsValid(number))
        {
            return new Refusal("P2", $"partnership number {number:X8} is not allowed (never 0 or FFFFFFFF)");
        }

        if (partnershipsHeld >= MaxSlotsPerDevice)
        {
            return new Refusal("P3", $"{name} already holds {partnershipsHeld} partnerships, the most a device may hold; end them by renaming the device (P8)");
        }

        if (existing is not null)
        {
            return new Refusal("P5", $"this host already has a partnership with a device named {existing.Name} (number {new PartnershipNumber(existing.Number)}); rename this device (cradle device name NEW) and connect again, or ask the host's operator to forget {existing.Name}");
        }

        return null;
    }

    /// <summary>
    /// A device claims partnership <paramref name="number"/>. Returns null when the claim names
    /// the host's record; the secret is checked after this.
    /// </summary>
    public static Refusal? CanAuthenticate(DeviceName name, uint number, HostPartnership? existing)
    {
        if (!PartnershipNumber.IsValid(number))
        {
            return new Refusal("P2", $"partnership number {number:X8} is not allowed (never 0 or FFFFFFFF)");
        }

        if (existing is null)
        {
            return new Refusal("P4", $"this host has no partnership with {name}: its operator removed it (cradle host forget); on the device, end the stale partnership by renaming it (P8), then partner again");
        }

        if (existing.Number != number)
        {
            return new Refusal("P5", $"this host's partnership with {existing.Name} has number {new PartnershipNumber(existing.Number)}, not {new PartnershipNumber(number)}; two devices cannot share a name: rename this device");
        }

        return null;
    }
}

/// <summary>A refusal: the rule it rests on and what the user can do, in plain words.</summary>
public sealed record Refusal(string Rule, string Message);
