namespace Cradle.Content;

/// <summary>
/// What a restore of a snapshot into a folder wrote (<paramref name="Files"/>, <paramref name="Bytes"/>:
/// files written); <paramref name="Readers"/>: the store readers its workers used (one each, made once).
/// The host's restore makes it; the CLI reads it through the host's façade, so it lives here, below both.
/// </summary>
public sealed record RestoreResult(long Files, long Folders, long Bytes, int Readers)
{
    /// <summary>Files already whole in the target (a cut run's, or there before), left as they were.</summary>
    public long Whole { get; init; }

    public long WholeBytes { get; init; }

    /// <summary>A dry run: existing files that would be replaced.</summary>
    public long Replaced { get; init; }

    /// <summary>Of <see cref="Files"/>, those made as hard links to another file of the restore (as they were on the device).</summary>
    public long Linked { get; init; }

    /// <summary>Temporary files of an earlier cut run that were removed.</summary>
    public int Leftovers { get; init; }

    /// <summary>Nothing was written: <see cref="Files"/> and <see cref="Bytes"/> are what would be.</summary>
    public bool DryRun { get; init; }

    /// <summary>The target held an unfinished restore of the same snapshot, which this one finished.</summary>
    public bool Resumed { get; init; }
}
