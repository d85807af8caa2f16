using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

public class SnapshotPathTests
{
    public static TheoryData<string, string> Refused => new()
    {
        { "", "empty" },
        { "..", "'..' segment" },
        { "a/../b", "'..' segment" },
        { "a/..", "'..' segment" },
        { "./a", "'.' segment" },
        { "/abs", "absolute" },
        { "/", "absolute" },
        { "\\server\\share", "absolute" },
        { "C:\\x", "drive letter" },
        { "C:x", "drive letter" },
        { "a\\b", "backslash" },
        { "a//b", "empty segment" },
        { "a/", "empty segment" },
        { "a\0b", "control character" },
        { "a\nb", "control character" },
        { "tab\there", "control character" },
        { "del\u007F", "control character" },
        { new string('x', 256), "longer than 255" },
        { "ok/" + new string('x', 256) + "/ok", "longer than 255" },
        { string.Join('/', Enumerable.Repeat("abcdefgh", 500)), "longer than 4096" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Unsafe_paths_are_refused_with_the_reason(string path, string reason)
    {
        Assert.False(SnapshotPath.IsSafe(path));
        Assert.Contains(reason, SnapshotPath.Check(path), StringComparison.Ordinal);
        var e = Assert.Throws<CradleProtocolException>(() => SnapshotPath.Validate(path));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unpaired_surrogates_are_refused()
    {
        // Not theory data: xunit serializes theory arguments, which turns a lone surrogate into U+FFFD.
        foreach (var path in new[] { "a\uD800b", "a\uDC00", "end\uD83D", "\uDE00start", "a/\uDE00\uD83D/b" })
        {
            Assert.Equal("it contains an unpaired surrogate", SnapshotPath.Check(path));
            Assert.Throws<CradleProtocolException>(() => SnapshotPath.Validate(path));
        }

        Assert.True(SnapshotPath.IsSafe("a/\uD83D\uDE00/b"));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("docs/report.txt")]
    [InlineData("Données/été/résumé.pdf")]
    [InlineData("日本語/ファイル.txt")]
    [InlineData("photos/😀 party.jpg")]
    [InlineData(".hidden/.profile")]
    [InlineData("a..b/...")]
    [InlineData("with space/and:colon")]
    [InlineData("C")]
    public void Safe_paths_are_accepted(string path)
    {
        Assert.Null(SnapshotPath.Check(path));
        Assert.True(SnapshotPath.IsSafe(path));
        Assert.Same(path, SnapshotPath.Validate(path));
    }

    [Fact]
    public void A_segment_of_exactly_255_characters_is_accepted()
    {
        Assert.True(SnapshotPath.IsSafe("dir/" + new string('x', SnapshotPath.MaxSegmentLength)));
    }

    [Fact]
    public void The_message_shows_control_characters_escaped()
    {
        var e = Assert.Throws<CradleProtocolException>(() => SnapshotPath.Validate("evil\u001b[2Jname"));
        Assert.Contains("\\u001b", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', e.Message);
    }
}
