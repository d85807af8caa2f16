namespace Cradle.Protocol.Tests;

/// <summary>The one sanitiser for text off the wire: what a terminal or a reader would act on is shown escaped; the rest passes.</summary>
public sealed class WireTextTests
{
    [Theory]
    [InlineData("plain host name", "plain host name")]
    [InlineData("Größe – 日本語 – 😀", "Größe – 日本語 – 😀")]
    [InlineData("\u001b[31mred\u001b[0m", @"\x1b[31mred\x1b[0m")]
    [InlineData("title\u001b]0;pwned\u0007", @"title\x1b]0;pwned\x07")]
    [InlineData("line\r\nforged log line", @"line\r\nforged log line")]
    [InlineData("tab\tdel\u007f", @"tab\tdel\x7f")]
    [InlineData("c1 \u009b31m csi", @"c1 \x9b31m csi")]
    [InlineData("bidi \u202eevil\u202c and \u2066isolate\u2069", @"bidi \u202eevil\u202c and \u2066isolate\u2069")]
    [InlineData("separator\u2028here", @"separator\u2028here")]
    public void Control_characters_are_shown_escaped_and_everything_else_as_it_is(string wire, string shown)
    {
        Assert.Equal(shown, WireText.Clean(wire));
        Assert.Equal(WireText.NeedsEscape(wire), wire != shown);
    }

    [Fact]
    public void A_lone_surrogate_is_shown_escaped_and_a_pair_passes()
    {
        // Not in InlineData: an attribute's string is stored as UTF-8, where a lone surrogate
        // becomes U+FFFD before the test ever sees it.
        var lone = "lone " + (char)0xD800 + " surrogate";
        Assert.Equal(@"lone \ud800 surrogate", WireText.Clean(lone));
        Assert.True(WireText.NeedsEscape(lone));
        var pair = "pair " + char.ConvertFromUtf32(0x1F600);
        Assert.Equal(pair, WireText.Clean(pair));
        Assert.False(WireText.NeedsEscape(pair));
    }

    [Fact]
    public void Nothing_is_empty_and_a_flood_is_cut_with_a_count()
    {
        Assert.Equal("", WireText.Clean(null));
        var flood = new string('x', WireText.MaxLength + 1000);
        var shown = WireText.Clean(flood);
        Assert.StartsWith(new string('x', WireText.MaxLength), shown, StringComparison.Ordinal);
        Assert.EndsWith("… (1000 more characters)", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_control_character_is_escaped()
    {
        for (var c = 0; c < 0x10000; c++)
        {
            if (char.IsControl((char)c) || char.IsSurrogate((char)c))
            {
                var shown = WireText.Clean(((char)c).ToString());
                Assert.False(shown.Any(ch => char.IsControl(ch) || char.IsSurrogate(ch)), $"U+{c:X4} came through as '{shown}'");
            }
        }
    }
}
