namespace Cradle.Fuzz;

/// <summary>Every decoder target by its corpus name.</summary>
public static class Targets
{
    public static IReadOnlyList<string> Names { get; } =
        ["frames", "linkframe", "chunkdata", "tree", "pack", "files-cache", "device-json", "partnerships-json"];

    /// <summary>A fresh target; file targets keep their files under <paramref name="scratch"/>.</summary>
    public static DecoderTarget Create(string name, string scratch)
    {
        var folder = Path.Combine(scratch, name);
        Directory.CreateDirectory(folder);
        return name switch
        {
            "frames" => new FramesTarget(),
            "linkframe" => new LinkFrameTarget(),
            "chunkdata" => new ChunkDataTarget(),
            "tree" => new SnapshotTreeTarget(),
            "pack" => new PackRecordsTarget(),
            "files-cache" => new FilesCacheTarget(folder),
            "device-json" => new DeviceIdentityTarget(folder),
            "partnerships-json" => new PartnershipsTarget(folder),
            _ => throw new ArgumentException($"no decoder target named {name}", nameof(name)),
        };
    }
}
