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

    /// <summary>
    /// Why a snapshot path cannot be written on a device (null when it can): a name Windows CE
    /// refuses or reserves (CON, PRN, AUX, NUL, COM1–9, LPT1–9, with any extension; a trailing dot
    /// or space), a separator or wildcard, "..", or an absolute path. Snapshots of other devices,
    /// or a damaged store, may hold such paths; a restore refuses them one by one.
    /// </summary>
    public static string? CheckWritable(string snapshotPath)
    {
        if (SnapshotPath.Check(snapshotPath) is { } reason)
        {
            return reason;
        }

        foreach (var segment in snapshotPath.Split('/'))
        {
            if (CheckName(segment) is { } problem)
            {
                return problem;
            }

            if (segment.EndsWith('.') || segment.EndsWith(' '))
            {
                return $"the name \"{DeviceText.Printable(segment)}\" ends with a dot or a space, which Windows CE drops";
            }

            var stem = segment.Split('.')[0].TrimEnd(' ');
            if (IsReservedDeviceName(stem))
            {
                return $"\"{DeviceText.Printable(segment)}\" is a reserved device name on Windows CE ({stem.ToUpperInvariant()})";
            }
        }

        return snapshotPath.Length + 1 > MaxNameChars ? $"the path has {snapshotPath.Length + 1} characters, more than Windows CE's MAX_PATH ({MaxNameChars})" : null;
    }

    private static bool IsReservedDeviceName(string stem) =>
        stem.ToUpperInvariant() is "CON" or "PRN" or "AUX" or "NUL"
        || (stem.Length == 4 && (stem.StartsWith("COM", StringComparison.OrdinalIgnoreCase) || stem.StartsWith("LPT", StringComparison.OrdinalIgnoreCase)) && stem[3] is >= '1' and <= '9');

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
