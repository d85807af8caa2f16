using Cradle.Tests;
using CsCheck;

namespace Cradle.Fuzz.Tests;

/// <summary>
/// Random and mutated-valid inputs for every decoder that reads outside bytes: each either
/// decodes or throws its documented exception type, within an allocation bound (DecoderCheck).
/// Iteration counts keep the whole class at a few seconds: <see cref="InMemory"/> runs for
/// decoders of byte spans, <see cref="OnDisk"/> for those that read a file (a write and a read
/// per input). Runs are single-threaded: the allocation counter is per thread and the file
/// targets share a folder. A failure prints CsCheck's seed; replay it with the seed argument.
/// </summary>
public sealed class DecoderPropertyTests : IDisposable
{
    public const long InMemory = 3000;
    public const long OnDisk = 400;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> InMemoryTargets => ["frames", "linkframe", "chunkdata", "tree", "pack"];

    public static TheoryData<string> OnDiskTargets => ["files-cache", "device-json", "partnerships-json"];

    [Theory]
    [MemberData(nameof(InMemoryTargets))]
    public void Random_bytes_are_decoded_or_refused_within_bounds(string name)
    {
        var target = Targets.Create(name, _temp.Path);
        Mutator.Noise(600).Sample(input => DecoderCheck.Holds(target, input), iter: InMemory, threads: 1);
    }

    [Theory]
    [MemberData(nameof(InMemoryTargets))]
    public void Mutated_valid_inputs_are_decoded_or_refused_within_bounds(string name)
    {
        var target = Targets.Create(name, _temp.Path);
        Mutator.Mutants(target.Seeds).Sample(input => DecoderCheck.Holds(target, input), iter: InMemory, threads: 1);
    }

    [Theory]
    [MemberData(nameof(OnDiskTargets))]
    public void Damaged_state_files_are_refused_within_bounds(string name)
    {
        var target = Targets.Create(name, _temp.Path);
        Mutator.Mutants(target.Seeds).Sample(input => DecoderCheck.Holds(target, input), iter: OnDisk, threads: 1);
        Mutator.Noise(300).Sample(input => DecoderCheck.Holds(target, input), iter: OnDisk / 4, threads: 1);
    }

    [Theory]
    [MemberData(nameof(InMemoryTargets))]
    [MemberData(nameof(OnDiskTargets))]
    public void Every_seed_decodes(string name)
    {
        var target = Targets.Create(name, _temp.Path);
        foreach (var seed in target.Seeds)
        {
            Assert.NotNull(target.Run(seed));
        }
    }
}
