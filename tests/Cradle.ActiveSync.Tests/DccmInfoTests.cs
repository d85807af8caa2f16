using Cradle.ActiveSync.Dccm;
using Cradle.ActiveSync.Emulator;
using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Tests;

/// <summary>The info message (DCCM 4): its layout, and every length in it checked against a cap.</summary>
public sealed class DccmInfoTests
{
    // Assembled by hand from the layout dccm reads (synce_device_rndis_info_received): GUID, OS 5.2,
    // name "Pocket_PC" (9 characters, then a NUL WCHAR), version, CPU 2577, flags, partner 0x12345678,
    // id, platforms "PocketPC\0Windows Mobile\0\0" (25 bytes), model "MX7" + NUL, 2 components, key 0x5A.
    private const string Golden =
        "00112233445566778899AABBCCDDEEFF 05000000 02000000 09000000 50006F0063006B00650074005F0050004300 0000" +
        "00500000 110A0000 00000000 78563412 00000000" +
        "19000000 506F636B657450430057696E646F7773204D6F62696C650000" +
        "03000000 4D5837 00" +
        "02000000 0010000002000500 0100000000000100" +
        "5A000000";

    [Fact]
    public void A_hand_assembled_info_message_decodes_field_by_field()
    {
        var info = DccmDeviceInfo.Parse(Hex.Bytes(Golden));

        Assert.Equal(new Guid(Hex.Bytes("00112233445566778899AABBCCDDEEFF")), info.DeviceGuid);
        Assert.Equal((5u, 2u), (info.OsMajor, info.OsMinor));
        Assert.Equal("Pocket_PC", info.Name);
        Assert.Equal(0x5000u, info.Version);
        Assert.Equal(2577u, info.CpuType);
        Assert.Equal(0x12345678u, info.CurrentPartnerId);
        Assert.Equal(new[] { "PocketPC", "Windows Mobile" }, info.Platforms);
        Assert.Equal("PocketPC", info.Platform);
        Assert.Equal("MX7", info.Model);
        Assert.Equal(new[] { 0x0005000200001000UL, 0x0001000000000001UL }, info.Components);
        Assert.Equal(0x5Au, info.PasswordKey);
        Assert.Equal(DeviceLock.Password, info.Lock);
        Assert.Equal(RapiVersion.Rapi2, info.RapiVersion);
        Assert.True(info.ExtraData.IsEmpty);
    }

    [Fact]
    public void The_emulators_own_encoder_agrees_with_the_hand_assembled_layout()
    {
        using var temp = new TempFolder();
        var device = new EmulatedDevice(new EmulatorOptions
        {
            FilesRoot = temp["d"], RegistryFile = temp["r.json"], DeviceGuid = "33221100-5544-7766-8899-aabbccddeeff",
            Platforms = ["PocketPC", "Windows Mobile"], Lock = EmulatedLock.Password, PasswordKey = 0x5A, Version = 0x5000,
        });
        device.Registry.Set(EmulatedRegistry.PartnersPath + @"\P1", "PId", RegistryValueJson.FromDWord(0x12345678));
        device.Registry.Set(EmulatedRegistry.PartnersPath, "PCur", RegistryValueJson.FromDWord(1));

        Assert.Equal(Hex.Of(Hex.Bytes(Golden)), Hex.Of(device.InfoMessage()));
    }

    [Theory]
    [InlineData(0u, DeviceLock.None)]
    [InlineData(0xFFFFFFFFu, DeviceLock.UnlockOnDevice)]
    [InlineData(1u, DeviceLock.Password)]
    public void The_password_key_says_how_the_device_is_locked(uint key, DeviceLock expected)
    {
        var body = Hex.Bytes(Golden);
        BitConverter.TryWriteBytes(body.AsSpan(body.Length - 4), key);
        Assert.Equal(expected, DccmDeviceInfo.Parse(body).Lock);
    }

    [Fact]
    public void Extra_data_after_the_key_is_kept()
    {
        var info = DccmDeviceInfo.Parse(Hex.Bytes(Golden + "03000000 AABBCC"));
        Assert.Equal(Hex.Bytes("AABBCC"), info.ExtraData.ToArray());
    }

    [Fact]
    public void Every_truncation_of_the_message_is_refused_with_a_protocol_error()
    {
        var body = Hex.Bytes(Golden);
        for (var length = 0; length < body.Length; length++)
        {
            var e = Assert.Throws<ActiveSyncProtocolException>(() => DccmDeviceInfo.Parse(body.AsSpan(0, length)));
            Assert.Contains("info message", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(24, "FFFFFF7F", "the device name")] // name length 0x7FFFFFFF characters
    [InlineData(24, "41000000", "the device name")] // 65 characters claimed, 9 present
    [InlineData(68, "00010000", "the platform list")] // platform list of 256 bytes claimed, 25 present
    [InlineData(68, "01040000", "more than the 1024")] // 1025 bytes: over the cap
    [InlineData(97, "FFFFFFFF", "the model name")]
    [InlineData(105, "07000000", "7 platform components")]
    public void A_length_over_its_cap_or_past_the_end_is_refused(int offset, string word, string expected)
    {
        var body = Hex.Bytes(Golden);
        Hex.Bytes(word).CopyTo(body, offset);

        var e = Assert.Throws<ActiveSyncProtocolException>(() => DccmDeviceInfo.Parse(body));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_over_the_cap_is_refused_even_when_the_message_holds_all_of_it()
    {
        using var temp = new TempFolder();
        string Info(int chars) => DccmDeviceInfo.Parse(new EmulatedDevice(new EmulatorOptions
        {
            FilesRoot = temp[$"d{chars}"], RegistryFile = temp[$"r{chars}.json"], Name = new string('A', chars),
        }).InfoMessage()).Name;

        Assert.Equal(64, Info(64).Length);
        var e = Assert.Throws<ActiveSyncProtocolException>(() => Info(65));
        Assert.Contains("says 65 characters, more than the 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_over_the_cap_is_refused_before_it_is_read() =>
        Assert.Throws<ActiveSyncProtocolException>(() => DccmDeviceInfo.Parse(new byte[DccmDeviceInfo.MaxLength + 1]));

    [Fact]
    public void A_name_that_is_not_UTF16_is_refused()
    {
        var body = Hex.Bytes(Golden);
        Hex.Bytes("00D8").CopyTo(body, 28); // a lone high surrogate as the first character
        var e = Assert.Throws<ActiveSyncProtocolException>(() => DccmDeviceInfo.Parse(body));
        Assert.Contains("UTF-16", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4u, 20u, RapiVersion.Rapi1)] // Pocket PC 2003 (CE 4.2)
    [InlineData(5u, 0u, RapiVersion.Rapi1)] // Windows CE 5.0
    [InlineData(5u, 1u, RapiVersion.Rapi2)] // Windows Mobile 5
    [InlineData(5u, 2u, RapiVersion.Rapi2)] // Windows Mobile 6.x
    [InlineData(6u, 0u, RapiVersion.Rapi2)] // Windows CE 6.0: SynCE's test sends it to RAPI1; we do not
    [InlineData(7u, 0u, RapiVersion.Rapi2)] // Windows Embedded Compact 7
    public void The_RAPI_version_follows_the_OS_version_as_a_pair(uint major, uint minor, RapiVersion expected) =>
        Assert.Equal(expected, RapiVersions.For(major, minor));
}
