using Cradle.ActiveSync.Rapi;
using Cradle.Protocol;

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

    /// <summary>
    /// Reads both slots; a slot with no valid id is reported absent. Two round trips (the link's
    /// 50 ms each counted before a first backup moves a byte): the three keys opened together by
    /// their full paths, then every value read and every key closed together.
    /// </summary>
    public static async ValueTask<ActiveSyncPartners> ReadAsync(RapiClient rapi, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        var keys = await OpenAllAsync(rapi, [PartnersKey, SlotPath(1), SlotPath(2)], create: false, cancellationToken).ConfigureAwait(false);
        if (keys[0] is not { } partners)
        {
            // No Partners key (a device never partnered, or cold-booted): no slot below it either.
            await CloseAllAsync(rapi, keys, cancellationToken).ConfigureAwait(false);
            return new ActiveSyncPartners(0, []);
        }

        var current = await rapi.SendRegQueryValueAsync(partners, "PCur", 64, cancellationToken).ConfigureAwait(false);
        var values = new List<(int Slot, Task<CeRegistryValue?> Id, Task<CeRegistryValue?> Name)>();
        for (var slot = 1; slot <= 2; slot++)
        {
            if (keys[slot] is { } key)
            {
                values.Add((slot,
                    await rapi.SendRegQueryValueAsync(key, "PId", 64, cancellationToken).ConfigureAwait(false),
                    await rapi.SendRegQueryValueAsync(key, "PName", (MaxHostNameChars + 1) * 2, cancellationToken).ConfigureAwait(false)));
            }
        }

        // Sent behind the reads: the device answers in order, so the keys close after they are read.
        var closing = CloseAllAsync(rapi, keys, cancellationToken);
        try
        {
            await Task.WhenAll([current, .. values.SelectMany(v => new[] { v.Id, v.Name })]).ConfigureAwait(false);
        }
        finally
        {
            await closing.ConfigureAwait(false);
        }

        var slots = new List<ActiveSyncPartnerSlot>();
        foreach (var (slot, idRead, nameRead) in values)
        {
            var id = (await idRead.ConfigureAwait(false))?.AsDWord();
            var name = (await nameRead.ConfigureAwait(false))?.AsString() ?? string.Empty;
            if (id is not (null or 0 or 0xFFFFFFFF))
            {
                slots.Add(new ActiveSyncPartnerSlot(slot, id.Value, name));
            }
        }

        var currentSlot = (await current.ConfigureAwait(false))?.AsDWord() ?? 0;
        return new ActiveSyncPartners(currentSlot is 1 or 2 ? (int)currentSlot : 0, slots);
    }

    /// <summary>
    /// Writes slot <paramref name="slot"/> (1 or 2) with a partner id and the host's name, and
    /// makes it current. Three round trips: both keys created; <c>PId</c> and <c>PName</c> written;
    /// only once both are written, <c>PCur</c> (a link lost before that leaves no current slot
    /// pointing at a half-written one).
    /// </summary>
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

        var keys = await OpenAllAsync(rapi, [PartnersKey, SlotPath(slot)], create: true, cancellationToken).ConfigureAwait(false);
        var (partners, slotKey) = (keys[0]!.Value, keys[1]!.Value);
        try
        {
            var written = new[]
            {
                await rapi.SendRegSetValueAsync(slotKey, "PId", CeRegistryValue.FromDWord(partnerId), cancellationToken).ConfigureAwait(false),
                await rapi.SendRegSetValueAsync(slotKey, "PName", CeRegistryValue.FromString(hostName), cancellationToken).ConfigureAwait(false),
            };
            var closing = CloseAllAsync(rapi, [slotKey], cancellationToken);
            try
            {
                await Task.WhenAll(written).ConfigureAwait(false);
            }
            finally
            {
                await closing.ConfigureAwait(false);
            }

            await (await rapi.SendRegSetValueAsync(partners, "PCur", CeRegistryValue.FromDWord((uint)slot), cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        }
        finally
        {
            await CloseAllAsync(rapi, [partners], cancellationToken).ConfigureAwait(false);
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
        var written = await rapi.SendRegSetValueAsync(partners, "PCur", CeRegistryValue.FromDWord((uint)slot), cancellationToken).ConfigureAwait(false);
        var closing = CloseAllAsync(rapi, [partners], cancellationToken);
        try
        {
            await written.ConfigureAwait(false);
        }
        finally
        {
            await closing.ConfigureAwait(false);
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

    private static string SlotPath(int slot) => $@"{PartnersKey}\P{slot}";

    /// <summary>
    /// Opens (or creates) keys below <c>HKLM</c> by their full paths, all sent before the first
    /// reply is awaited; null for a key that does not exist. When one fails, those that opened are
    /// closed before the failure is passed on.
    /// </summary>
    private static async Task<CeRegistryKey?[]> OpenAllAsync(RapiClient rapi, string[] paths, bool create, CancellationToken cancellationToken)
    {
        var opening = new List<Task<CeRegistryKey?>>(paths.Length);
        foreach (var path in paths)
        {
            opening.Add(create
                ? CreatedKey(await rapi.SendRegCreateKeyAsync(CeRegistryKey.LocalMachine, path, cancellationToken).ConfigureAwait(false))
                : await rapi.SendRegOpenKeyAsync(CeRegistryKey.LocalMachine, path, cancellationToken).ConfigureAwait(false));
        }

        try
        {
            return await Task.WhenAll(opening).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CradleException or OperationCanceledException)
        {
            var opened = new List<CeRegistryKey?>(opening.Count);
            foreach (var task in opening.Where(t => t.IsCompletedSuccessfully))
            {
                opened.Add(await task.ConfigureAwait(false));
            }

            await CloseAllAsync(rapi, [.. opened], CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        static async Task<CeRegistryKey?> CreatedKey(Task<(CeRegistryKey Key, bool Created)> created) => (await created.ConfigureAwait(false)).Key;
    }

    /// <summary>Closes every key given (nulls and predefined keys skipped), all sent before the first reply is awaited.</summary>
    private static async Task CloseAllAsync(RapiClient rapi, CeRegistryKey?[] keys, CancellationToken cancellationToken)
    {
        var closing = new List<Task<bool>>();
        foreach (var key in keys)
        {
            if (key is { } open)
            {
                closing.Add(await rapi.SendRegCloseKeyAsync(open, cancellationToken).ConfigureAwait(false));
            }
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    private static void CheckSlot(int slot)
    {
        if (slot is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(slot), slot, "a device has partnership slots 1 and 2 (P3)");
        }
    }
}
