using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

public class DeviceNameTests
{
    [Theory]
    [InlineData("A")]
    [InlineData("MX7")]
    [InlineData("mx7-0042")]
    [InlineData("Z-")]
    [InlineData("abcdefghijklmno")] // 15 characters, the most P1 allows
    [InlineData("Warehouse-12-B")]
    [InlineData("Pocket_PC")] // the Windows Mobile default name: P1 admits '_'
    [InlineData("mx_7")]
    [InlineData("A_")]
    public void P1_valid_names_are_accepted_as_spelled(string text)
    {
        Assert.True(DeviceName.TryParse(text, out var name, out var reason), reason);
        Assert.Equal(text, name.Value);
        Assert.Equal(text, DeviceName.Parse(text).ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("abcdefghijklmnop", "16 characters")]
    [InlineData("7up", "does not start with a letter")]
    [InlineData("-mx7", "does not start with a letter")]
    [InlineData("_mx7", "does not start with a letter")]
    [InlineData("mx7+", "'+'")]
    [InlineData("mx 7", "' '")]
    [InlineData("mx7.local", "'.'")]
    [InlineData("Gerät", "\\u00e4")]
    [InlineData("\u00c9cran", "does not start with a letter")]
    [InlineData("ＭＸ７", "does not start with a letter")]
    [InlineData("mx7\u0000", "\\u0000")]
    public void P1_invalid_names_are_refused_with_the_reason(string text, string reasonPart)
    {
        Assert.False(DeviceName.TryParse(text, out _, out var reason));
        Assert.Contains(reasonPart, reason, StringComparison.Ordinal);
        // The rule itself, in words (a person reads this; the rule's number is for docs and logs).
        Assert.Contains("1-15 characters", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("P1", reason, StringComparison.Ordinal);
        var e = Assert.Throws<ArgumentException>(() => DeviceName.Parse(text));
        Assert.Contains("1-15 characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void P1_null_is_refused()
    {
        Assert.False(DeviceName.TryParse(null, out _, out var reason));
        Assert.Contains("empty", reason, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DeviceName.Parse(null));
    }

    [Fact]
    public void P1_name_longer_than_15_characters_is_refused()
    {
        Assert.True(DeviceName.TryParse(new string('a', 15), out _, out _));
        Assert.False(DeviceName.TryParse(new string('a', 16), out _, out var reason));
        Assert.Contains("16 characters", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void P1_a_very_long_name_is_shortened_in_the_message()
    {
        Assert.False(DeviceName.TryParse(new string('a', 5000), out _, out var reason));
        Assert.Contains("5000 characters", reason, StringComparison.Ordinal);
        Assert.True(reason.Length < 400, reason);
    }

    [Fact]
    public void P1_names_compare_case_insensitively()
    {
        var upper = DeviceName.Parse("MX7-Dock");
        var lower = DeviceName.Parse("mx7-dock");

        Assert.Equal(upper, lower);
        Assert.True(upper == lower);
        Assert.Equal(upper.GetHashCode(), lower.GetHashCode());
        Assert.Single(new HashSet<DeviceName> { upper, lower });
        Assert.NotEqual(DeviceName.Parse("MX8-Dock"), upper);
        Assert.Equal(DeviceName.Parse("POCKET_PC"), DeviceName.Parse("Pocket_pc"));
        Assert.NotEqual(DeviceName.Parse("Pocket_PC"), DeviceName.Parse("Pocket-PC"));
    }

    [Fact]
    public void P1_key_is_the_same_for_every_spelling_and_value_keeps_the_spelling()
    {
        var upper = DeviceName.Parse("MX7-Dock");
        var lower = DeviceName.Parse("mx7-dock");

        Assert.Equal("MX7-DOCK", upper.Key);
        Assert.Equal(upper.Key, lower.Key);
        Assert.Equal("MX7-Dock", upper.Value);
        Assert.Equal("mx7-dock", lower.Value);
    }
}
