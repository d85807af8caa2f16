namespace Cradle.Device.Tests;

public class DevicePartnershipsTests
{
    private static readonly PartnershipSlot Office = Slots.Make("office-pc", 0x1111_1111, createdUnixMs: 1_000);
    private static readonly PartnershipSlot Depot = Slots.Make("depot-pc", 0x2222_2222, createdUnixMs: 2_000);

    [Fact]
    public void P3_a_device_with_a_free_slot_may_add_a_partnership()
    {
        Assert.Null(DevicePartnerships.CanAdd([], "laptop"));
        Assert.Null(DevicePartnerships.CanAdd([Office], "laptop"));
    }

    [Fact]
    public void P3_a_device_with_two_slots_refuses_a_third_host_naming_the_two()
    {
        var refusal = DevicePartnerships.CanAdd([Office, Depot], "laptop");

        Assert.NotNull(refusal);
        Assert.Contains("2 partnerships", refusal, StringComparison.Ordinal);
        Assert.Contains("office-pc", refusal, StringComparison.Ordinal);
        Assert.Contains("depot-pc", refusal, StringComparison.Ordinal);
        Assert.Contains("laptop", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void P2_a_new_number_never_equals_the_other_slots_number()
    {
        // Randomness cannot be steered from outside, so this checks the contract over many draws.
        for (var i = 0; i < 20_000; i++)
        {
            var number = DevicePartnerships.NewNumber([Office]).Value;
            Assert.NotEqual(Office.Number, number);
            Assert.True(number is not 0 and not uint.MaxValue);
        }
    }

    [Fact]
    public void P6_cold_boot_removes_the_most_recently_created_partnership_and_keeps_the_other()
    {
        var (remaining, lost) = DevicePartnerships.ColdBoot([Office, Depot]);

        Assert.Same(Depot, lost);
        Assert.Same(Office, Assert.Single(remaining));
    }

    [Fact]
    public void P6_cold_boot_goes_by_creation_time_not_by_list_order()
    {
        var (remaining, lost) = DevicePartnerships.ColdBoot([Depot, Office]);

        Assert.Same(Depot, lost);
        Assert.Same(Office, Assert.Single(remaining));
    }

    [Fact]
    public void P6_with_equal_creation_times_the_later_slot_is_the_newer()
    {
        var first = Slots.Make("a", 1, 5_000);
        var second = Slots.Make("b", 2, 5_000);

        var (remaining, lost) = DevicePartnerships.ColdBoot([first, second]);

        Assert.Same(second, lost);
        Assert.Same(first, Assert.Single(remaining));
    }

    [Fact]
    public void P6_cold_boot_with_one_partnership_removes_it()
    {
        var (remaining, lost) = DevicePartnerships.ColdBoot([Office]);

        Assert.Same(Office, lost);
        Assert.Empty(remaining);
    }

    [Fact]
    public void P6_cold_boot_without_partnerships_changes_nothing()
    {
        var (remaining, lost) = DevicePartnerships.ColdBoot([]);

        Assert.Null(lost);
        Assert.Empty(remaining);
    }

    [Fact]
    public void P8_rename_ends_every_partnership()
    {
        var (remaining, ended) = DevicePartnerships.Rename([Office, Depot]);

        Assert.Empty(remaining);
        Assert.Equal(new[] { Office, Depot }, ended);
    }
}
