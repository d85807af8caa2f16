using Cradle.Tests;

namespace Cradle.Fuzz.Tests;

/// <summary>Replays the seed corpus (tests/corpus) through every decoder.</summary>
public sealed class CorpusTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Names => [.. Targets.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void Corpus_inputs_decode_or_are_refused_within_bounds(string name)
    {
        var target = Targets.Create(name, _temp.Path);
        var files = Corpus.Files(name).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            var result = DecoderCheck.Holds(target, input);
            if (Path.GetFileName(file).StartsWith("valid-", StringComparison.Ordinal))
            {
                Assert.True(result is not null, $"{file} is a valid input and must decode");
            }
        }
    }

    /// <summary>The golden seeds are in the corpus as the current code writes them (CRADLE_WRITE_CORPUS=1 rewrites them).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Golden_seeds_are_in_the_corpus(string name)
    {
        var target = Targets.Create(name, _temp.Path);
        var write = Environment.GetEnvironmentVariable("CRADLE_WRITE_CORPUS") == "1";
        for (var i = 0; i < target.Seeds.Count; i++)
        {
            var path = Path.Combine(Corpus.TargetFolder(name), $"valid-{i}.bin");
            if (write)
            {
                Directory.CreateDirectory(Corpus.TargetFolder(name));
                File.WriteAllBytes(path, target.Seeds[i]);
            }

            Assert.True(File.Exists(path), $"{path} is missing: run the corpus tests with CRADLE_WRITE_CORPUS=1");
        }
    }
}
