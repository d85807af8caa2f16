using System.Security.Cryptography;
using System.Text.Json;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// A device's state folder. <c>persistent/</c> survives a cold boot (name, folders, recovery
/// key); <c>volatile/</c> is what a cold boot can take (partnerships, files cache). Every file
/// is written atomically (temporary file, fsync, rename), and read back with its size capped
/// and its content validated.
/// </summary>
public sealed class DeviceState
{
    private const long MaxStateFileBytes = 1024 * 1024;

    public DeviceState(string folder)
    {
        Folder = Path.GetFullPath(folder);
    }

    public string Folder { get; }

    public string IdentityPath => Path.Combine(Folder, "persistent", "device.json");

    public string PartnershipsPath => Path.Combine(Folder, "volatile", "partnerships.json");

    public string FilesCachePath => Path.Combine(Folder, "volatile", "files.cache");

    public bool IsInitialized => File.Exists(IdentityPath);

    /// <summary>
    /// Creates the state of a new device (P1 name, data folders, a fresh recovery key). Run again
    /// on a device with the same name, it adds the folders it does not back up yet and changes
    /// nothing else (partnerships, recovery key and files cache stay); another name is refused
    /// (renaming ends partnerships: that is 'cradle device name').
    /// </summary>
    public InitOutcome Initialize(string name, IReadOnlyList<string> folders, TimeProvider? time = null)
    {
        var deviceName = DeviceName.Parse(name);
        if (folders.Count == 0)
        {
            throw new ArgumentException("name at least one data folder to back up (--folder DIR)", nameof(folders));
        }

        if (IsInitialized)
        {
            var existing = LoadIdentity();
            if (!DeviceName.Parse(existing.Name).Equals(deviceName))
            {
                throw new ArgumentException($"{Folder} already holds the device {existing.Name}; to give it another name run '{DeviceCommandLine.Of($"name {deviceName}")}' (that ends its partnerships), or use another --state folder");
            }

            var added = new List<DataFolder>();
            var identity = existing;
            foreach (var folder in folders)
            {
                if (!identity.Folders.Any(f => SamePath(f.Path, folder)))
                {
                    identity = AddFolderTo(identity, folder, null);
                    added.Add(identity.Folders[^1]);
                }
            }

            if (added.Count > 0)
            {
                SaveIdentity(identity);
            }

            return new InitOutcome(identity, Created: false, added);
        }

        PrivateFiles.CreateIfMissing(Folder);
        var list = new List<DataFolder>();
        var fresh = new DeviceIdentity
        {
            Name = deviceName.Value,
            Folders = list,
            RecoveryKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            CreatedUnixMs = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds(),
        };
        foreach (var folder in folders)
        {
            fresh = AddFolderTo(fresh, folder, null);
        }

        SaveIdentity(fresh);
        SavePartnerships(new PartnershipsFile());
        return new InitOutcome(fresh, Created: true, fresh.Folders);
    }

    /// <summary>Adds a data folder (it must exist), or, one already backed up, its exclude patterns; returns the folder as kept.</summary>
    public DataFolder AddFolder(string path, IReadOnlyList<string>? exclude)
    {
        var identity = LoadIdentity();
        CheckPatterns(exclude ?? []);
        var existing = identity.Folders.FirstOrDefault(f => SamePath(f.Path, path));
        if (existing is not null)
        {
            var merged = existing with { Exclude = Merge(existing.Exclude, exclude) };
            SaveIdentity(identity with { Folders = [.. identity.Folders.Select(f => f == existing ? merged : f)] });
            return merged;
        }

        var updated = AddFolderTo(identity, path, exclude);
        SaveIdentity(updated);
        return updated.Folders[^1];
    }

    /// <summary>Stops backing up a data folder (by path or label); the host keeps what it backed up so far.</summary>
    public DataFolder RemoveFolder(string pathOrLabel)
    {
        var identity = LoadIdentity();
        var folder = FindFolder(identity, pathOrLabel);
        if (identity.Folders.Count == 1)
        {
            throw new ArgumentException($"{folder.Path} is the only data folder; add another first (a device backs up at least one)");
        }

        SaveIdentity(identity with { Folders = [.. identity.Folders.Where(f => f != folder)] });
        return folder;
    }

    /// <summary>Adds (or, <paramref name="remove"/>, takes away) exclude patterns: of one folder (by path or label), or of every folder.</summary>
    public List<string> ChangeExclude(IReadOnlyList<string> patterns, string? folder, bool remove)
    {
        var identity = LoadIdentity();
        if (!remove)
        {
            CheckPatterns(patterns);
        }

        List<string> Change(List<string>? current)
        {
            if (remove)
            {
                var missing = patterns.Where(p => current is null || !current.Contains(p, StringComparer.Ordinal)).ToList();
                if (missing.Count > 0)
                {
                    throw new ArgumentException($"no exclude pattern {string.Join(", ", missing.Select(m => $"'{m}'"))} {(folder is null ? "for every folder" : $"for {folder}")} to remove ('{DeviceCommandLine.Of("folders list")}' shows them)");
                }

                return [.. current!.Where(p => !patterns.Contains(p, StringComparer.Ordinal))];
            }

            return Merge(current, patterns) ?? [];
        }

        if (folder is null)
        {
            var global = Change(identity.Exclude);
            SaveIdentity(identity with { Exclude = global });
            return global;
        }

        var target = FindFolder(identity, folder);
        var changed = target with { Exclude = Change(target.Exclude) };
        SaveIdentity(identity with { Folders = [.. identity.Folders.Select(f => f == target ? changed : f)] });
        return changed.Exclude!;
    }

    /// <summary>
    /// Data folders with labels, from paths (and their own exclude patterns): each label is the
    /// folder's name, made unique with -2, -3… as <c>init</c> does.
    /// </summary>
    public static List<DataFolder> Label(IEnumerable<(string Path, List<string>? Exclude)> folders)
    {
        var identity = new DeviceIdentity { Name = "X", Folders = [], RecoveryKey = "" };
        foreach (var (path, exclude) in folders)
        {
            identity = AddFolderTo(identity, path, exclude, mustExist: false);
        }

        return identity.Folders;
    }

    private static DeviceIdentity AddFolderTo(DeviceIdentity identity, string folder, IReadOnlyList<string>? exclude, bool mustExist = true)
    {
        var full = Path.GetFullPath(folder);
        if (mustExist && !Directory.Exists(full))
        {
            throw new ArgumentException($"data folder {full} does not exist", nameof(folder));
        }

        var label = Label(full);
        var unique = label;
        for (var n = 2; identity.Folders.Any(f => string.Equals(f.Label, unique, StringComparison.OrdinalIgnoreCase)); n++)
        {
            unique = $"{label}-{n}";
        }

        return identity with { Folders = [.. identity.Folders, new DataFolder(unique, full) { Exclude = exclude is { Count: > 0 } ? [.. exclude] : null }] };
    }

    private static DataFolder FindFolder(DeviceIdentity identity, string pathOrLabel) =>
        identity.Folders.FirstOrDefault(f => string.Equals(f.Label, pathOrLabel, StringComparison.OrdinalIgnoreCase))
        ?? identity.Folders.FirstOrDefault(f => SamePath(f.Path, pathOrLabel))
        ?? throw new ArgumentException($"no data folder '{pathOrLabel}': the device backs up {string.Join(", ", identity.Folders.Select(f => $"{f.Path} (as {f.Label}/)"))}");

    private static bool SamePath(string kept, string given) =>
        string.Equals(Path.TrimEndingDirectorySeparator(kept), Path.TrimEndingDirectorySeparator(Path.GetFullPath(given)), StringComparison.Ordinal);

    private static List<string>? Merge(List<string>? current, IReadOnlyList<string>? more)
    {
        var merged = new List<string>(current ?? []);
        merged.AddRange((more ?? []).Where(p => !merged.Contains(p, StringComparer.Ordinal)));
        return merged.Count == 0 ? null : merged;
    }

    private static void CheckPatterns(IReadOnlyList<string> patterns) => ExcludeRules.Parse(patterns);

    public DeviceIdentity LoadIdentity()
    {
        if (!IsInitialized)
        {
            throw new DeviceStateException($"{Folder} holds no device: run '{DeviceCommandLine.Of("init --name NAME --folder DIR")}' first");
        }

        var identity = Read(IdentityPath, DeviceStateJson.Default.DeviceIdentity);
        if (identity.Version != 1)
        {
            throw new DeviceStateException($"{IdentityPath} has version {identity.Version}; this build reads version 1 only");
        }

        if (!DeviceName.TryParse(identity.Name, out _, out var reason))
        {
            throw new DeviceStateException($"{IdentityPath}: {reason}");
        }

        if (identity.Folders is null || identity.Folders.Any(f => f is null || string.IsNullOrEmpty(f.Label) || !SnapshotPath.IsSafe(f.Label) || f.Label.Contains('/', StringComparison.Ordinal)))
        {
            throw new DeviceStateException($"{IdentityPath}: a data folder has a missing or unsafe label");
        }

        if (!IsKey(identity.RecoveryKey))
        {
            throw new DeviceStateException($"{IdentityPath}: the recovery key is damaged");
        }

        return identity;
    }

    public void SaveIdentity(DeviceIdentity identity) =>
        Durability.WriteAtomically(IdentityPath, JsonSerializer.SerializeToUtf8Bytes(identity, DeviceStateJson.Default.DeviceIdentity));

    public PartnershipsFile LoadPartnerships()
    {
        if (!File.Exists(PartnershipsPath))
        {
            return new PartnershipsFile();
        }

        var file = Read(PartnershipsPath, DeviceStateJson.Default.PartnershipsFile);
        if (file.Version != 1)
        {
            throw new DeviceStateException($"{PartnershipsPath} has version {file.Version}; this build reads version 1 only");
        }

        if (file.Slots is null || file.Slots.Count > DevicePartnerships.MaxSlots || file.Slots.Any(s => s is null || !PartnershipNumber.IsValid(s.Number)))
        {
            throw new DeviceStateException($"{PartnershipsPath}: the partnership list is damaged (more than {DevicePartnerships.MaxSlots} slots or an invalid number)");
        }

        if (file.Candidate is { } candidate && (!PartnershipNumber.IsValid(candidate.Number) || candidate.Code is not { Length: 6 } || !candidate.Code.All(char.IsAsciiDigit)))
        {
            throw new DeviceStateException($"{PartnershipsPath}: the partnership waiting for this device's consent is damaged");
        }

        // A session decodes these before it sends anything: a damaged one must fail here, as damage, not mid-session.
        if (file.Slots.Any(s => !IsKey(s.Secret)) || (file.Candidate is { } waiting && !IsKey(waiting.Secret)))
        {
            throw new DeviceStateException($"{PartnershipsPath}: a partnership's secret is damaged");
        }

        return file;
    }

    public void SavePartnerships(PartnershipsFile file) =>
        Durability.WriteAtomically(PartnershipsPath, JsonSerializer.SerializeToUtf8Bytes(file, DeviceStateJson.Default.PartnershipsFile));

    /// <summary>What a cold boot does (P6): the newest partnership and the files cache are gone; name and the rest stay.</summary>
    public PartnershipSlot? ColdBoot()
    {
        LoadIdentity();
        var (remaining, lost) = DevicePartnerships.ColdBoot(LoadPartnerships().Slots);
        SavePartnerships(new PartnershipsFile { Slots = remaining });
        File.Delete(FilesCachePath);
        return lost;
    }

    /// <summary>
    /// Ends this device's partnership with one host — named by its name, its id or the address it
    /// was made at — and drops a partnership waiting for consent there too. The host keeps its
    /// record and backups (P4): partnering with it again meets P5 until its operator forgets the
    /// name, as after a cold boot. The way out when a pinned host was really replaced. Returns the
    /// ended slot (or candidate); null when none matched.
    /// </summary>
    public PartnershipSlot? EndPartnership(string host)
    {
        LoadIdentity();
        var file = LoadPartnerships();
        var ended = FindPartnership(file, host);
        if (ended is null)
        {
            return null;
        }

        SavePartnerships(file with
        {
            Slots = [.. file.Slots.Where(s => !ReferenceEquals(s, ended))],
            Candidate = file.Candidate is { } waiting && Names(waiting, host) ? null : file.Candidate,
        });
        return ended;
    }

    /// <summary>The slot (else the candidate) that <paramref name="host"/> names: its host's name, id, or address.</summary>
    public static PartnershipSlot? FindPartnership(PartnershipsFile file, string host)
    {
        var matching = file.Slots.Where(s => Names(s, host)).ToList();
        if (matching.Count > 1)
        {
            throw new ArgumentException($"'{host}' names {matching.Count} partnerships ({string.Join(", ", matching.Select(s => $"{s.HostName} id {s.HostId}"))}); name one by its host id");
        }

        return matching.SingleOrDefault() ?? (file.Candidate is { } waiting && Names(waiting, host) ? waiting : null);
    }

    private static bool Names(PartnershipSlot slot, string host) =>
        string.Equals(slot.HostName, host, StringComparison.OrdinalIgnoreCase) || string.Equals(slot.HostId, host, StringComparison.OrdinalIgnoreCase) || slot.Address == host;

    /// <summary>Renames the device (P1); every partnership it held ends (P8). Returns the ended ones.</summary>
    public List<PartnershipSlot> Rename(string newName)
    {
        var name = DeviceName.Parse(newName);
        var identity = LoadIdentity();
        var (remaining, ended) = DevicePartnerships.Rename(LoadPartnerships().Slots);
        if (DeviceName.Parse(identity.Name).Equals(name))
        {
            // The same name (P1 compares without case): only its spelling changes, no partnership ends.
            SaveIdentity(identity with { Name = name.Value });
            return [];
        }

        SavePartnerships(new PartnershipsFile { Slots = remaining });
        SaveIdentity(identity with { Name = name.Value });
        return ended;
    }

    private static T Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxStateFileBytes)
        {
            throw new DeviceStateException($"{path} is {info.Length} bytes, far larger than any state file; it is damaged");
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type)
                ?? throw new DeviceStateException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new DeviceStateException($"{path} is damaged: {e.Message}", e);
        }
    }

    /// <summary>Base64 of a 32-byte key, as <see cref="Initialize"/> and a new partnership write it.</summary>
    private static bool IsKey(string? base64)
    {
        Span<byte> key = stackalloc byte[33];
        return base64 is not null && Convert.TryFromBase64String(base64, key, out var written) && written == 32;
    }

    private static string Label(string folder)
    {
        var name = Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        var clean = new string(name.Where(c => !char.IsControl(c) && c is not '/' and not '\\' and not ':').ToArray());
        return clean.Length == 0 || clean is "." or ".." ? "data" : clean;
    }
}

/// <summary>What <c>cradle device init</c> did: made the device, or found it and added the folders it lacked.</summary>
public sealed record InitOutcome(DeviceIdentity Identity, bool Created, IReadOnlyList<DataFolder> Added);

/// <summary>The device's state folder is missing, of an unknown version, or damaged.</summary>
public sealed class DeviceStateException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner);
