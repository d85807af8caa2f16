using System.Text;
using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Wire;

namespace Cradle.ActiveSync.Dccm;

/// <summary>How a device that connects is locked, read from its info message's password key.</summary>
public enum DeviceLock
{
    /// <summary>Key 0: the device is not locked.</summary>
    None,

    /// <summary>Any other key (Windows Mobile 5): the host must send the device's password, XORed with the key.</summary>
    Password,

    /// <summary>Key 0xFFFFFFFF (Windows Mobile 6): the person holding the device unlocks it on its screen.</summary>
    UnlockOnDevice,
}

/// <summary>
/// The device's info message (DCCM message 4), as SynCE's dccm lays it out
/// (<c>synce_device_rndis_info_received</c>): who the device is, its OS, the partnership it is
/// bound to now and how it is locked. Every string is as the device sent it: data, not trusted.
/// </summary>
public sealed record DccmDeviceInfo(
    Guid DeviceGuid,
    uint OsMajor,
    uint OsMinor,
    string Name,
    uint Version,
    uint CpuType,
    uint Flags,
    uint CurrentPartnerId,
    uint Id,
    IReadOnlyList<string> Platforms,
    string Model,
    IReadOnlyList<ulong> Components,
    uint PasswordKey,
    ReadOnlyMemory<byte> ExtraData)
{
    /// <summary>The most an info message may be; real ones are a few hundred bytes.</summary>
    public const int MaxLength = 16 * 1024;

    /// <summary>Characters a device name may have here (SynCE refuses more than 31; P1 decides later).</summary>
    public const int MaxNameChars = 64;

    public const int MaxPlatformBytes = 1024;
    public const int MaxModelBytes = 256;

    /// <summary>Platform component versions the message may list (dccm refuses more than 6).</summary>
    public const int MaxComponents = 6;

    public const uint UnlockOnDeviceKey = 0xFFFFFFFF;

    public DeviceLock Lock => PasswordKey switch
    {
        0 => DeviceLock.None,
        UnlockOnDeviceKey => DeviceLock.UnlockOnDevice,
        _ => DeviceLock.Password,
    };

    /// <summary>The RAPI version this device speaks, from its OS version (<see cref="RapiVersions.For"/>).</summary>
    public RapiVersion RapiVersion => RapiVersions.For(OsMajor, OsMinor);

    /// <summary>The first platform name ("PocketPC", "SmartPhone", "CEPC"), or empty.</summary>
    public string Platform => Platforms.Count > 0 ? Platforms[0] : string.Empty;

    /// <summary>Parses an info message body (after its u32 length). Every length is checked against its cap.</summary>
    public static DccmDeviceInfo Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxLength)
        {
            throw ActiveSyncProtocolException.Malformed("info message", $"it is {body.Length} bytes, more than the {MaxLength} this host accepts");
        }

        var reader = new WireReader(body, "info message");
        var guid = new Guid(reader.Bytes(16, 16, "the device GUID"));
        var osMajor = reader.U32("the OS major version");
        var osMinor = reader.U32("the OS minor version");
        var nameChars = reader.U32("the device name's length");
        var name = reader.Utf16(nameChars, MaxNameChars, "the device name");

        // The name is followed by a NUL WCHAR that its count leaves out; dccm steps over it unread.
        reader.Skip(2, "the device name's NUL");
        var version = reader.U32("the version");
        var cpu = reader.U32("the CPU type");
        var flags = reader.U32("the flags word");
        var partner = reader.U32("the current partner id");
        var id = reader.U32("the id");
        var platformBytes = reader.U32("the platform list's length");
        var platforms = SplitPlatforms(reader.Bytes(platformBytes, MaxPlatformBytes, "the platform list"));
        var modelBytes = reader.U32("the model name's length");
        var model = Ascii(reader.Bytes(modelBytes, MaxModelBytes, "the model name"));
        reader.Skip(1, "the model name's NUL");
        var componentCount = reader.U32("the component count");
        if (componentCount > MaxComponents)
        {
            throw reader.Fail($"it lists {componentCount} platform components, more than the {MaxComponents} a device has");
        }

        var components = new ulong[componentCount];
        for (var i = 0; i < components.Length; i++)
        {
            components[i] = reader.U64("a platform component");
        }

        var key = reader.U32("the password key");
        var extra = ReadOnlyMemory<byte>.Empty;
        if (reader.Remaining > 0)
        {
            var extraLength = reader.U32("the extra data's length");
            extra = reader.Bytes(extraLength, MaxLength, "the extra data").ToArray();
        }

        return new DccmDeviceInfo(guid, osMajor, osMinor, name, version, cpu, flags, partner, id, platforms, model, components, key, extra);
    }

    // The platform field is a list: names separated by NULs, closed by an extra one ("PocketPC\0\0").
    private static string[] SplitPlatforms(ReadOnlySpan<byte> bytes) =>
        Ascii(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries);

    private static string Ascii(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.Length;
        while (end > 0 && bytes[end - 1] == 0)
        {
            end--;
        }

        // Latin-1 maps every byte to one character, so nothing is lost and nothing throws;
        // DeviceText.Printable escapes what a console must not see.
        return Encoding.Latin1.GetString(bytes[..end]);
    }
}
