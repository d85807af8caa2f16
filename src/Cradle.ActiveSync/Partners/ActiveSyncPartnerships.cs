using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Partners;

/// <summary>One of the device's two partnership slots as ActiveSync keeps it (<c>P1</c> or <c>P2</c>).</summary>
public sealed record ActiveSyncPartnerSlot(int Slot, uint PartnerId, string HostName);

/// <summary>What the device's registry says about its partnerships.</summary>
public sealed record ActiveSyncPartners(int CurrentSlot, IReadOnlyList<ActiveSyncPartnerSlot> Slots)
{
    public ActiveSyncPartnerSlot? Find(uint partnerId) => Slots.FirstOrDefault(s => s.PartnerId == partnerId);

    public ActiveSyncPartnerSlot? Current => Slots.FirstOrDefault(s => s.Slot == CurrentSlot);
}

/// <summary>
/// The partnerships an ActiveSync device keeps in its own registry, read and written exactly where
/// ActiveSync kept them (SynCE <c>librra/lib/matchmaker.c</c>):
/// <c>HKLM\Software\Microsoft\Windows CE Services\Partners</c>, <c>PCur</c> (DWORD: the current slot,
/// 1 or 2, 0 for none) and subkeys <c>P1</c>/<c>P2</c> with <c>PId</c> (DWORD, random, never 0 or
/// 0xFFFFFFFF) and <c>PName</c> (the host's short name). The device name is <c>HKLM\Ident\Name</c>.
/// The rules (P1–P8) are the host's to apply; this class only reads and writes.
/// </summary>
public static class ActiveSyncPartnerships
{
    public const string PartnersKey = @"Software\Microsoft\Windows CE Services\Partners";
    public const string IdentKey = "Ident";
    public const int MaxHostNameChars = 64;

    /// <summary>Reads both slots; a slot with no valid id is reported absent.</summary>
    public static async ValueTask<ActiveSyncPartners> ReadAsync(RapiClient rapi, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        var partners = await rapi.RegOpenKeyAsync(CeRegistryKey.LocalMachine, PartnersKey, cancellationToken).ConfigureAwait(false);
        if (partners is not { } key)
        {
            return new ActiveSyncPartners(0, []);
        }

        try
        {
            var current = (await rapi.RegQueryValueAsync(key, "PCur", 64, cancellationToken).ConfigureAwait(false))?.AsDWord() ?? 0;
            var slots = new List<ActiveSyncPartnerSlot>();
            for (var slot = 1; slot <= 2; slot++)
            {
                var read = await ReadSlotAsync(rapi, key, slot, cancellationToken).ConfigureAwait(false);
                if (read is not null)
                {
                    slots.Add(read);
                }
            }

            return new ActiveSyncPartners(current is 1 or 2 ? (int)current : 0, slots);
        }
        finally
        {
            await rapi.RegCloseKeyAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes slot <paramref name="slot"/> (1 or 2) with a partner id and the host's name, and makes it current.</summary>
    public static async ValueTask WriteSlotAsync(RapiClient rapi, int slot, uint partnerId, string hostName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        CheckSlot(slot);
        if (partnerId is 0 or 0xFFFFFFFF)
        {
            throw new ArgumentOutOfRangeException(nameof(partnerId), partnerId, "a partner id is never 0 or 0xFFFFFFFF (P2)");
        }

        if (string.IsNullOrEmpty(hostName) || hostName.Length > MaxHostNameChars)
        {
            throw new ArgumentException($"a host name has 1 to {MaxHostNameChars} characters", nameof(hostName));
        }

        var (partners, _) = await rapi.RegCreateKeyAsync(CeRegistryKey.LocalMachine, PartnersKey, cancellationToken).ConfigureAwait(false);
        try
        {
            var (slotKey, _) = await rapi.RegCreateKeyAsync(partners, $"P{slot}", cancellationToken).ConfigureAwait(false);
            try
            {
                await rapi.RegSetValueAsync(slotKey, "PId", CeRegistryValue.FromDWord(partnerId), cancellationToken).ConfigureAwait(false);
                await rapi.RegSetValueAsync(slotKey, "PName", CeRegistryValue.FromString(hostName), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await rapi.RegCloseKeyAsync(slotKey, cancellationToken).ConfigureAwait(false);
            }

            await rapi.RegSetValueAsync(partners, "PCur", CeRegistryValue.FromDWord((uint)slot), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await rapi.RegCloseKeyAsync(partners, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Makes slot 1 or 2 current, or none with 0 (what ActiveSync does when no slot matches).</summary>
    public static async ValueTask SetCurrentSlotAsync(RapiClient rapi, int slot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        if (slot is not (0 or 1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, "the current slot is 0, 1 or 2");
        }

        var (partners, _) = await rapi.RegCreateKeyAsync(CeRegistryKey.LocalMachine, PartnersKey, cancellationToken).ConfigureAwait(false);
        try
        {
            await rapi.RegSetValueAsync(partners, "PCur", CeRegistryValue.FromDWord((uint)slot), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await rapi.RegCloseKeyAsync(partners, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes slot 1 or 2 (a partnership ended); false when it was not there.</summary>
    public static async ValueTask<bool> RemoveSlotAsync(RapiClient rapi, int slot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        CheckSlot(slot);
        var partners = await rapi.RegOpenKeyAsync(CeRegistryKey.LocalMachine, PartnersKey, cancellationToken).ConfigureAwait(false);
        if (partners is not { } key)
        {
            return false;
        }

        try
        {
            return await rapi.RegDeleteKeyAsync(key, $"P{slot}", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await rapi.RegCloseKeyAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The device name (<c>HKLM\Ident\Name</c>), or null when it is not set.</summary>
    public static async ValueTask<string?> ReadDeviceNameAsync(RapiClient rapi, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        var ident = await rapi.RegOpenKeyAsync(CeRegistryKey.LocalMachine, IdentKey, cancellationToken).ConfigureAwait(false);
        if (ident is not { } key)
        {
            return null;
        }

        try
        {
            return (await rapi.RegQueryValueAsync(key, "Name", 256, cancellationToken).ConfigureAwait(false))?.AsString();
        }
        finally
        {
            await rapi.RegCloseKeyAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Renames the device (<c>HKLM\Ident\Name</c>). The caller has applied P1 and P8 and has the operator's consent.</summary>
    public static async ValueTask WriteDeviceNameAsync(RapiClient rapi, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var (ident, _) = await rapi.RegCreateKeyAsync(CeRegistryKey.LocalMachine, IdentKey, cancellationToken).ConfigureAwait(false);
        try
        {
            await rapi.RegSetValueAsync(ident, "Name", CeRegistryValue.FromString(name), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await rapi.RegCloseKeyAsync(ident, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask<ActiveSyncPartnerSlot?> ReadSlotAsync(RapiClient rapi, CeRegistryKey partners, int slot, CancellationToken cancellationToken)
    {
        var opened = await rapi.RegOpenKeyAsync(partners, $"P{slot}", cancellationToken).ConfigureAwait(false);
        if (opened is not { } key)
        {
            return null;
        }

        try
        {
            var id = (await rapi.RegQueryValueAsync(key, "PId", 64, cancellationToken).ConfigureAwait(false))?.AsDWord();
            var name = (await rapi.RegQueryValueAsync(key, "PName", (MaxHostNameChars + 1) * 2, cancellationToken).ConfigureAwait(false))?.AsString() ?? string.Empty;
            return id is null or 0 or 0xFFFFFFFF ? null : new ActiveSyncPartnerSlot(slot, id.Value, name);
        }
        finally
        {
            await rapi.RegCloseKeyAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void CheckSlot(int slot)
    {
        if (slot is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, "a device has partnership slots 1 and 2 (P3)");
        }
    }
}
