namespace Cradle.Device.Tests;

/// <summary>Exclude patterns read as gitignore reads them, relative to the data folder.</summary>
public sealed class ExcludeRulesTests
{
    [Theory]
    [InlineData("*.tmp", "a.tmp", false, true)]
    [InlineData("*.tmp", "deep/down/a.tmp", false, true)]
    [InlineData("*.tmp", "a.tmp.keep", false, false)]
    [InlineData("cache/", "cache", true, true)]
    [InlineData("cache/", "sub/cache", true, true)]
    [InlineData("cache/", "cache", false, false)]
    [InlineData("/exports/old", "exports/old", true, true)]
    [InlineData("/exports/old", "sub/exports/old", true, false)]
    [InlineData("exports/old", "sub/exports/old", true, false)]
    [InlineData("logs/*.gz", "logs/a.gz", false, true)]
    [InlineData("logs/*.gz", "logs/deeper/a.gz", false, false)]
    [InlineData("logs/**/*.gz", "logs/deeper/still/a.gz", false, true)]
    [InlineData("logs/**/*.gz", "logs/a.gz", false, true)]
    [InlineData("**/build", "x/y/build", true, true)]
    [InlineData("data[0-9].bin", "data7.bin", false, true)]
    [InlineData("data[0-9].bin", "datax.bin", false, false)]
    [InlineData("data[!0-9].bin", "datax.bin", false, true)]
    [InlineData("?.txt", "a.txt", false, true)]
    [InlineData("?.txt", "ab.txt", false, false)]
    [InlineData("\\#notes", "#notes", false, true)]
    [InlineData("# a comment", "# a comment", false, false)]
    public void One_pattern(string pattern, string path, bool isFolder, bool excluded) =>
        Assert.Equal(excluded, ExcludeRules.Parse([pattern]).IsExcluded(path, isFolder));

    [Fact]
    public void The_last_pattern_that_matches_decides()
    {
        var rules = ExcludeRules.Parse(["*.log", "!keep.log", "keep.log.d/"]);

        Assert.True(rules.IsExcluded("a.log", isFolder: false));
        Assert.False(rules.IsExcluded("keep.log", isFolder: false));
        Assert.False(rules.IsExcluded("sub/keep.log", isFolder: false));
        Assert.True(ExcludeRules.Parse(["!keep.log", "*.log"]).IsExcluded("keep.log", isFolder: false));
    }

    [Theory]
    [InlineData("[abc", "not closed")]
    [InlineData("!", "names nothing")]
    [InlineData("a\u0001b", "control character")]
    public void A_malformed_pattern_is_refused_naming_it(string pattern, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => ExcludeRules.Parse([pattern]));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.Contains(pattern, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_pattern_excludes_nothing() => Assert.False(ExcludeRules.None.IsExcluded("anything", isFolder: true));
}
