using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// The device's side of the partnership rules, as pure operations on its slots, so each rule
/// is tested by id (the state folder persists the result).
/// </summary>
public static class DevicePartnerships
{
    /// <summary>Most partnerships a device holds (P3).</summary>
    public const int MaxSlots = 2;

    /// <summary>Null when a new partnership may be made, else the P3 refusal.</summary>
    public static string? CanAdd(IReadOnlyList<PartnershipSlot> slots, string hostName) =>
        slots.Count >= MaxSlots
            ? $"this device already holds {slots.Count} partnerships ({string.Join(", ", slots.Select(s => s.HostName))}), the most a device may hold, so it cannot partner with {hostName}; ways out: connect to {hostName} as a guest ({DeviceCommandLine.Of("connect --guest")}: status, and restore with its operator's consent: {DeviceCommandLine.Of("restore")}), cold-boot to end the newest partnership, or rename the device to end both"
            : null;

    /// <summary>Which partnerships a rename would end (P8), in words for a refusal.</summary>
    public static string WhatRenameEnds(IReadOnlyList<PartnershipSlot> slots) =>
        slots.Count == 0
            ? "this device holds no other partnership, so a rename ends none"
            : $"on this device a rename would also end {string.Join(" and ", slots.Select(s => $"the partnership with {s.HostName} (number {new PartnershipNumber(s.Number)})"))}";

    /// <summary>A fresh number for a new partnership, never equal to the other slot's (P2).</summary>
    public static PartnershipNumber NewNumber(IReadOnlyList<PartnershipSlot> slots) =>
        PartnershipNumber.NewRandom(slots.Select(s => s.Number));

    /// <summary>A cold boot deletes the most recently created partnership; the other survives (P6).</summary>
    public static (List<PartnershipSlot> Remaining, PartnershipSlot? Lost) ColdBoot(IReadOnlyList<PartnershipSlot> slots)
    {
        if (slots.Count == 0)
        {
            return ([], null);
        }

        // Slots are kept in the order they were made; the creation time breaks no tie the order cannot.
        var newest = slots.Select((slot, index) => (slot, index)).MaxBy(p => (p.slot.CreatedUnixMs, p.index)).slot;
        return (slots.Where(s => !ReferenceEquals(s, newest)).ToList(), newest);
    }

    /// <summary>Renaming ends every partnership the device holds (P8): a partnership is defined by the name.</summary>
    public static (List<PartnershipSlot> Remaining, List<PartnershipSlot> Ended) Rename(IReadOnlyList<PartnershipSlot> slots) =>
        ([], slots.ToList());
}
