using System.Text.Json.Serialization;

namespace Cradle.ActiveSync.Emulator;

/// <summary>How the emulated device is locked.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EmulatedLock>))]
public enum EmulatedLock
{
    None,

    /// <summary>Windows Mobile 5: the host sends the password XORed with the key.</summary>
    Password,

    /// <summary>Windows Mobile 6: the host asks for the unlock screen; the device answers after <see cref="EmulatorOptions.UnlockAfterMs"/>.</summary>
    UnlockOnDevice,
}

/// <summary>
/// The emulated device: who it is, where its files and registry live, how it connects. Properties
/// have setters, not init: the JSON source generator sets every init-only property, so a field
/// missing from the file would lose its default.
/// </summary>
public sealed record EmulatorOptions
{
    /// <summary>The folder that is the device's root (<c>\</c>).</summary>
    public string FilesRoot { get; set; } = "";

    /// <summary>The JSON file that is the device's registry (made with the defaults when missing).</summary>
    public string RegistryFile { get; set; } = "";

    /// <summary>The name a fresh registry starts with (HKLM\Ident\Name); after that the registry's value is used.</summary>
    public string Name { get; set; } = "Pocket_PC";

    public uint OsMajor { get; set; } = 5;
    public uint OsMinor { get; set; } = 2;
    public uint Version { get; set; } = 0x0000_5000;
    public uint CpuType { get; set; } = 2577; // ARM
    public string DeviceGuid { get; set; } = "6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
    public string[] Platforms { get; set; } = ["PocketPC"];
    public string Model { get; set; } = "MX7";

    /// <summary>Root folders that are storage cards (listed with the temporary attribute).</summary>
    public string[] StorageCards { get; set; } = [];

    /// <summary>The folder CeGetSpecialFolderPath(CSIDL_PERSONAL) answers.</summary>
    public string DocumentsFolder { get; set; } = @"\My Documents";

    public EmulatedLock Lock { get; set; } = EmulatedLock.None;

    /// <summary>The device's password (WM5) — the emulator compares what the host sends with it.</summary>
    public string Password { get; set; } = "";

    /// <summary>The key of the info message for <see cref="EmulatedLock.Password"/> (any value but 0 and 0xFFFFFFFF).</summary>
    public uint PasswordKey { get; set; } = 0x5A;

    /// <summary>How long the person takes to unlock a WM6 device; -1: never.</summary>
    public int UnlockAfterMs { get; set; } = 100;

    /// <summary>What the device answers to the unlock request (0 = unlocked).</summary>
    public uint UnlockAnswer { get; set; }

    /// <summary>The host's address and DCCM port the device connects to.</summary>
    public string HostAddress { get; set; } = "169.254.2.2";
    public int HostPort { get; set; } = 990;

    /// <summary>Where the device listens for the host's UDP trigger (port 0: any free port).</summary>
    public string TriggerAddress { get; set; } = "169.254.2.1";
    public int TriggerPort { get; set; } = 5679;

    /// <summary>Connect at start instead of waiting for the trigger.</summary>
    public bool ConnectOnStart { get; set; }

    /// <summary>
    /// The device's network interface; when set, the device watches its carrier as a real one sees
    /// its USB link: carrier lost, every connection is gone at once; carrier back, it answers triggers again.
    /// </summary>
    public string? CarrierInterface { get; set; }

    /// <summary>Send the optional message 6 before the info message.</summary>
    public bool SendQuery6 { get; set; } = true;

    /// <summary>The RAPI version the device speaks; null: from its OS version, as a real device would.</summary>
    public int? RapiVersion { get; set; }

    public EmulatorFaults Faults { get; set; } = new();

    /// <summary>RAPI2 from OS 5.1 on, RAPI1 before (what Cradle expects; a real device is the final word).</summary>
    public int EffectiveRapiVersion => RapiVersion ?? (OsMajor > 5 || (OsMajor == 5 && OsMinor >= 1) ? 2 : 1);
}

/// <summary>
/// Faults and hostile behaviour, changeable while the device runs. Calls are named as RAPI names
/// them (<c>CeReadFile</c>).
/// </summary>
public sealed class EmulatorFaults
{
    /// <summary>Milliseconds added before every reply.</summary>
    public int ReplyDelayMs { get; set; }

    /// <summary>Per-call delays that replace <see cref="ReplyDelayMs"/>.</summary>
    public Dictionary<string, int> ReplyDelayMsByCall { get; set; } = [];

    /// <summary>
    /// False: the delay is the device working (a session serves one call at a time). True: the
    /// delay is on the way back (the session goes on reading and working; replies keep their order).
    /// </summary>
    public bool DelayIsLatency { get; set; }

    /// <summary>Read replies carry at most this many bytes (0: as many as asked).</summary>
    public int ShortReadMax { get; set; }

    /// <summary>After this many file bytes sent in read replies, the device vanishes in the middle of a reply (0: never).</summary>
    public long VanishAfterReadBytes { get; set; }

    /// <summary>After this many file bytes received in write requests, the device vanishes in the middle of the reply (0: never): a cable pulled mid-restore.</summary>
    public long VanishAfterWriteBytes { get; set; }

    /// <summary>The reply to this call says it is 0x7FFFFFF0 bytes long.</summary>
    public string? OversizedReplyTo { get; set; }

    /// <summary>This call is never answered (the connection stays open).</summary>
    public string? NeverReplyTo { get; set; }

    /// <summary>This call's reply claims more than it holds (CeFindAllFiles: entries; CeReadFile: bytes).</summary>
    public string? LyingCountIn { get; set; }

    /// <summary>Extra entries every folder listing carries, with these names ("..", "\\evil", "a/b").</summary>
    public string[] HostileNames { get; set; } = [];

    /// <summary>Listings send names without their terminating NUL.</summary>
    public bool NamesWithoutNul { get; set; }

    /// <summary>The info message says its name has this many characters.</summary>
    public uint? InfoNameCharsOverride { get; set; }

    /// <summary>The info message says it has this many components.</summary>
    public uint? InfoComponentCountOverride { get; set; }

    /// <summary>The info message's length word says this.</summary>
    public uint? InfoLengthOverride { get; set; }

    /// <summary>Keepalives (1) are not answered.</summary>
    public bool IgnorePings { get; set; }
}
