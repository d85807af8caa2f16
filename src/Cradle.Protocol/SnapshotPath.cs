namespace Cradle.Protocol;

/// <summary>
/// A path inside a snapshot: relative, '/'-separated, every segment a plain name. The host
/// checks every path from the wire with <see cref="Validate"/> before it stores it, and
/// restore checks again before it writes, so a snapshot can never name a place outside
/// the folder it is restored into.
/// </summary>
public static class SnapshotPath
{
    public const int MaxLength = 4096;
    public const int MaxSegmentLength = 255;

    /// <summary>Returns the path if it is safe, else throws <see cref="CradleProtocolException"/> saying why.</summary>
    public static string Validate(string path)
    {
        var reason = Check(path);
        if (reason is not null)
        {
            throw new CradleProtocolException($"refused path \"{Escape(path)}\": {reason}");
        }

        return path;
    }

    public static bool IsSafe(string path) => Check(path) is null;

    /// <summary>Why a path is refused, or null when it is safe.</summary>
    public static string? Check(string path)
    {
        if (path.Length == 0)
        {
            return "it is empty";
        }

        if (path.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        if (path[0] == '/' || path[0] == '\\')
        {
            return "it is absolute";
        }

        if (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]))
        {
            return "it starts with a drive letter";
        }

        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '\\')
            {
                return "it contains a backslash";
            }

            if (char.IsControl(c))
            {
                return "it contains a control character";
            }

            if (char.IsHighSurrogate(c) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "it contains an unpaired surrogate";
            }
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "it has an empty segment";
            }

            if (segment is "." or "..")
            {
                return $"it has a '{segment}' segment";
            }

            if (segment.Length > MaxSegmentLength)
            {
                return $"a segment is longer than {MaxSegmentLength} characters";
            }
        }

        return null;
    }

    private static string Escape(string path)
    {
        var shown = path.Length > 120 ? path[..120] + "..." : path;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
