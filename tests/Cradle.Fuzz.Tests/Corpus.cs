using System.Runtime.CompilerServices;

namespace Cradle.Fuzz;

/// <summary>
/// The seed corpus in the repository, tests/corpus/TARGET/: <c>valid-*</c> files are golden
/// inputs that must decode; <c>regress-*</c> files are hostile inputs a property or the fuzzer
/// once found breaking a decoder, kept so the fix stays. The fuzz harness starts from it too.
/// </summary>
public static class Corpus
{
    public static string Folder { get; } = Path.GetFullPath(Path.Combine(SourceFolder(), "..", "corpus"));

    public static string TargetFolder(string target) => Path.Combine(Folder, target);

    public static IEnumerable<string> Files(string target) =>
        Directory.Exists(TargetFolder(target))
            ? Directory.EnumerateFiles(TargetFolder(target)).Order(StringComparer.Ordinal)
            : [];

    private static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
