using Cradle.Protocol;

namespace Cradle.Host.Tests;

public class PartnershipRulesTests
{
    private static readonly DeviceName Device = DeviceName.Parse("MX7-0042");

    private static HostPartnership Record(uint number, string name = "MX7-0042", bool confirmed = true) =>
        new(name, number, new byte[32], DateTimeOffset.UnixEpoch, null, null, "tcp", Confirmed: confirmed);

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    public void A_device_with_a_free_slot_may_partner(uint held)
    {
        Assert.Null(PartnershipRules.CanCreate(Device, 0x1234, held, existing: null));
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(3u)]
    public void P3_a_device_holding_two_partnerships_is_refused(uint held)
    {
        var refusal = PartnershipRules.CanCreate(Device, 0x1234, held, existing: null);

        Assert.NotNull(refusal);
        Assert.Equal("P3", refusal.Rule);
        Assert.Contains("MX7-0042", refusal.Message, StringComparison.Ordinal);
        Assert.Contains($"{held} partnerships", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void P5_a_name_the_host_already_holds_is_refused_and_the_device_told_to_rename()
    {
        var refusal = PartnershipRules.CanCreate(DeviceName.Parse("mx7-0042"), 0x1234, 0, Record(0xABCD));

        Assert.NotNull(refusal);
        Assert.Equal("P5", refusal.Rule);
        Assert.Contains("rename", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("0000ABCD", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unconfirmed_partnership_whose_device_never_stored_the_secret_does_not_refuse_a_new_request()
    {
        // The host recorded it, then the link dropped (or the host died) before the device said
        // it stored number and secret: no device holds it, so the request replaces it.
        Assert.Null(PartnershipRules.CanCreate(Device, 0x1234, 0, Record(0xABCD, confirmed: false)));
        Assert.Null(PartnershipRules.CanCreate(Device, 0x1234, 1, Record(0xABCD, confirmed: false)));
        Assert.Equal("P3", PartnershipRules.CanCreate(Device, 0x1234, 2, Record(0xABCD, confirmed: false))?.Rule);
        Assert.Equal("P2", PartnershipRules.CanCreate(Device, 0, 0, Record(0xABCD, confirmed: false))?.Rule);
    }

    [Fact]
    public void P7_a_confirmed_partnership_refuses_a_new_request_for_its_name()
    {
        Assert.Equal("P5", PartnershipRules.CanCreate(Device, 0x1234, 0, Record(0xABCD, confirmed: true))?.Rule);
    }

    [Fact]
    public void P5_a_name_the_host_holds_is_refused_even_with_the_same_number()
    {
        // The device lost its partnership (P7) and asks again: the number does not prove anything.
        Assert.Equal("P5", PartnershipRules.CanCreate(Device, 0xABCD, 0, Record(0xABCD))?.Rule);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFFFFFFu)]
    public void P2_number_0_or_FFFFFFFF_is_refused(uint number)
    {
        var refusal = PartnershipRules.CanCreate(Device, number, 0, existing: null);

        Assert.NotNull(refusal);
        Assert.Equal("P2", refusal.Rule);
    }

    [Fact]
    public void CanAuthenticate_without_a_record_is_refused()
    {
        var refusal = PartnershipRules.CanAuthenticate(Device, 0x1234, existing: null);

        Assert.NotNull(refusal);
        Assert.Equal("P4", refusal.Rule);
        Assert.Contains("forget", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void P5_CanAuthenticate_with_another_number_is_refused()
    {
        var refusal = PartnershipRules.CanAuthenticate(Device, 0x1234, Record(0x5678));

        Assert.NotNull(refusal);
        Assert.Equal("P5", refusal.Rule);
        Assert.Contains("00005678", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("00001234", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CanAuthenticate_with_the_recorded_number_passes_to_the_secret_check()
    {
        Assert.Null(PartnershipRules.CanAuthenticate(Device, 0x1234, Record(0x1234)));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFFFFFFu)]
    public void CanAuthenticate_with_an_invalid_number_from_the_wire_is_refused_not_thrown(uint number)
    {
        var refusal = PartnershipRules.CanAuthenticate(Device, number, Record(0x5678));

        Assert.NotNull(refusal);
    }
}
