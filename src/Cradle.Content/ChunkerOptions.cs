namespace Cradle.Content;

/// <summary>Sizes for content-defined chunking. The defaults are part of the store format:
/// changing them changes where chunks cut, and so stops dedup against older backups.</summary>
public sealed record ChunkerOptions
{
    public int MinSize { get; init; } = 16 * 1024;
    public int AverageSize { get; init; } = 64 * 1024;
    public int MaxSize { get; init; } = 256 * 1024;

    public static ChunkerOptions Default { get; } = new();

    /// <summary>The largest chunk any chunker may produce; a wire chunk above it is refused.</summary>
    public const int AbsoluteMaxSize = 1024 * 1024;

    internal void Validate()
    {
        if (MinSize < 64 || AverageSize <= MinSize || MaxSize <= AverageSize || MaxSize > AbsoluteMaxSize)
        {
            throw new ArgumentException($"chunk sizes must satisfy 64 <= min < average < max <= {AbsoluteMaxSize}: {MinSize}/{AverageSize}/{MaxSize}");
        }

        if (!int.IsPow2(AverageSize))
        {
            throw new ArgumentException($"the average chunk size must be a power of two, got {AverageSize}");
        }
    }
}
