using Cradle.Protocol;

namespace Cradle.ActiveSync;

/// <summary>
/// Windows CE paths (<c>\My Documents\scan.csv</c>: absolute, backslash-separated, no drive letters)
/// and their mapping to snapshot paths (<c>My Documents/scan.csv</c>). Every name that came from the
/// device goes through <see cref="CheckName"/>: a name with a separator, "..", a NUL or a wildcard
/// cannot name a file on a real device, so one in a reply is hostile and refused.
/// </summary>
public static class CePath
{
    /// <summary>Windows CE's MAX_PATH.</summary>
    public const int MaxNameChars = 260;

    public const int MaxPathChars = 4096;

    private static readonly char[] Forbidden = ['\\', '/', ':', '*', '?', '"', '<', '>', '|'];

    /// <summary>Why <paramref name="name"/> cannot be one file name on the device, or null when it can.</summary>
    public static string? CheckName(string name)
    {
        if (name.Length == 0)
        {
            return "the name is empty";
        }

        if (name is "." or "..")
        {
            return $"'{name}' is not a file name (Windows CE lists no such entries)";
        }

        if (name.Length > MaxNameChars)
        {
            return $"the name has {name.Length} characters, more than Windows CE's {MaxNameChars}";
        }

        foreach (var c in name)
        {
            if (c < ' ')
            {
                return "the name contains a control character";
            }

            if (Array.IndexOf(Forbidden, c) >= 0)
            {
                return c is '\\' or '/' or ':' ? $"the name contains the separator '{c}'" : $"the name contains '{c}', which no Windows file name has";
            }
        }

        return null;
    }

    /// <summary>The path of <paramref name="name"/> in the folder <paramref name="folder"/>; the name is checked.</summary>
    public static string Combine(string folder, string name)
    {
        var problem = CheckName(name);
        if (problem is not null)
        {
            throw new ArgumentException($"\"{DeviceText.Printable(name)}\": {problem}", nameof(name));
        }

        return folder == "\\" ? "\\" + name : folder + "\\" + name;
    }

    /// <summary>
    /// A folder the operator named (<c>\Application Data\Scans</c>; forward slashes are accepted) in
    /// the form the device uses. Relative paths, drive letters and ".." are refused.
    /// </summary>
    public static string NormalizeFolder(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = path.Replace('/', '\\');
        if (!text.StartsWith('\\'))
        {
            throw new ArgumentException($"\"{DeviceText.Printable(path)}\" is not an absolute Windows CE path (they start with '\\', e.g. \\My Documents)", nameof(path));
        }

        var segments = text.Split('\\', StringSplitOptions.RemoveEmptyEntries);
        foreach (var segment in segments)
        {
            var problem = CheckName(segment);
            if (problem is not null)
            {
                throw new ArgumentException($"\"{DeviceText.Printable(path)}\": {problem}", nameof(path));
            }
        }

        var normalized = "\\" + string.Join('\\', segments);
        return normalized.Length > MaxPathChars
            ? throw new ArgumentException($"the path has more than {MaxPathChars} characters", nameof(path))
            : normalized;
    }

    /// <summary>The snapshot path of a device path: <c>\Storage Card\a.txt</c> → <c>Storage Card/a.txt</c>.</summary>
    public static string ToSnapshotPath(string devicePath)
    {
        if (!devicePath.StartsWith('\\') || devicePath.Length < 2)
        {
            throw new ArgumentException($"\"{DeviceText.Printable(devicePath)}\" is not a file below the device's root", nameof(devicePath));
        }

        foreach (var segment in devicePath[1..].Split('\\'))
        {
            var problem = CheckName(segment);
            if (problem is not null)
            {
                throw new ActiveSyncProtocolException($"refused device path \"{DeviceText.Printable(devicePath)}\": {problem}");
            }
        }

        var snapshot = devicePath[1..].Replace('\\', '/');
        var reason = SnapshotPath.Check(snapshot);
        return reason is null ? snapshot : throw new ActiveSyncProtocolException($"refused device path \"{DeviceText.Printable(devicePath)}\": {reason}");
    }

    /// <summary>The device path a snapshot path restores to: <c>My Documents/a.txt</c> → <c>\My Documents\a.txt</c>.</summary>
    public static string FromSnapshotPath(string snapshotPath)
    {
        SnapshotPath.Validate(snapshotPath);
        foreach (var segment in snapshotPath.Split('/'))
        {
            var problem = CheckName(segment);
            if (problem is not null)
            {
                throw new ArgumentException($"\"{DeviceText.Printable(snapshotPath)}\" cannot be written on a Windows CE device: {problem}", nameof(snapshotPath));
            }
        }

        return "\\" + snapshotPath.Replace('/', '\\');
    }
}
