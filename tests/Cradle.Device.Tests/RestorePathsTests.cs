namespace Cradle.Device.Tests;

public sealed class RestorePathsTests : IDisposable
{
    private readonly Cradle.Tests.TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private List<DataFolder> Folders()
    {
        var data = Path.Combine(_temp.Path, "data");
        Directory.CreateDirectory(data);
        return [new DataFolder("data", data)];
    }

    [Fact]
    public void A_path_under_a_data_folder_label_resolves_inside_it()
    {
        var folders = Folders();
        Assert.Equal(Path.Combine(folders[0].Path, "docs", "a.txt"), RestorePaths.Resolve(folders, "data/docs/a.txt", out _));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("data/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("data\\..\\x")]
    [InlineData("other/x")]
    [InlineData("data//x")]
    public void Hostile_paths_are_refused_with_a_reason(string path)
    {
        Assert.Null(RestorePaths.Resolve(Folders(), path, out var reason));
        Assert.NotEmpty(reason);
    }

    [LinuxFact]
    public void A_path_through_a_symbolic_link_is_refused()
    {
        var folders = Folders();
        var outside = Path.Combine(_temp.Path, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateSymbolicLink(Path.Combine(folders[0].Path, "link"), outside);

        Assert.Null(RestorePaths.Resolve(folders, "data/link/x.txt", out var reason));
        Assert.Contains("symbolic link", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data/docs/**", "data/docs/deep/a.txt", true)]
    [InlineData("data/docs", "data/docs/a.txt", true)]
    [InlineData("data/*.txt", "data/a.txt", true)]
    [InlineData("data/*.txt", "data/docs/a.txt", false)]
    [InlineData("**/a.txt", "data/docs/a.txt", true)]
    [InlineData("data/?.txt", "data/ab.txt", false)]
    [InlineData("data/docs/**", "data/doc", false)]
    public void Path_patterns_match_segments(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, PathGlob.Matches(pattern, path));
    }
}
