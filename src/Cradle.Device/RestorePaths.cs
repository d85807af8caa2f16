using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// Where a path from the host may be written on the device: inside one of its data folders,
/// and nowhere else. The first segment names the data folder (its label); the path must pass
/// the hostile-path checks (<see cref="SnapshotPath"/>), resolve under that folder, and pass
/// through no symbolic link below it (a link could lead anywhere).
/// </summary>
public static class RestorePaths
{
    /// <summary>The full path to write, or null with the reason the path is refused.</summary>
    public static string? Resolve(IReadOnlyList<DataFolder> folders, string snapshotPath, out string reason)
    {
        reason = SnapshotPath.Check(snapshotPath) ?? "";
        if (reason.Length > 0)
        {
            return null;
        }

        var slash = snapshotPath.IndexOf('/', StringComparison.Ordinal);
        var label = slash < 0 ? snapshotPath : snapshotPath[..slash];
        var folder = folders.FirstOrDefault(f => string.Equals(f.Label, label, StringComparison.Ordinal));
        if (folder is null)
        {
            reason = $"it is in no data folder of this device (none is labelled '{label}'; this device has {string.Join(", ", folders.Select(f => f.Label + "/"))})";
            return null;
        }

        var root = Path.GetFullPath(folder.Path);
        if (slash < 0)
        {
            return root;
        }

        var rest = snapshotPath[(slash + 1)..];
        var full = Path.GetFullPath(Path.Combine(root, rest));
        var prefix = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            reason = $"it leads outside the data folder {root}";
            return null;
        }

        var current = root;
        foreach (var segment in rest.Split('/'))
        {
            current = Path.Combine(current, segment);
            if (new FileInfo(current).LinkTarget is { } target)
            {
                reason = $"it goes through the symbolic link {current} (to {target}), which could lead outside the data folder";
                return null;
            }
        }

        return full;
    }
}
