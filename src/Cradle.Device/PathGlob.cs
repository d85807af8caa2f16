namespace Cradle.Device;

/// <summary>
/// The <c>--path</c> patterns of a restore, matched against snapshot paths
/// (<c>LABEL/dir/file</c>): <c>*</c> and <c>?</c> within one segment, <c>**</c> across any
/// number of segments. A pattern that matches a folder selects everything under it.
/// </summary>
public static class PathGlob
{
    public static bool MatchesAny(IReadOnlyList<string> patterns, string path) =>
        patterns.Count == 0 || patterns.Any(p => Matches(p, path));

    public static bool Matches(string pattern, string path)
    {
        var want = pattern.Trim('/').Split('/');
        var have = path.Split('/');
        // The path itself or any folder above it.
        for (var n = have.Length; n >= 1; n--)
        {
            if (Segments(want, 0, have.AsSpan(0, n).ToArray(), 0))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Segments(string[] want, int i, string[] have, int j)
    {
        if (i == want.Length)
        {
            return j == have.Length;
        }

        if (want[i] == "**")
        {
            for (var k = j; k <= have.Length; k++)
            {
                if (Segments(want, i + 1, have, k))
                {
                    return true;
                }
            }

            return false;
        }

        return j < have.Length && Segment(want[i], 0, have[j], 0) && Segments(want, i + 1, have, j + 1);
    }

    private static bool Segment(string p, int i, string s, int j)
    {
        while (i < p.Length)
        {
            switch (p[i])
            {
                case '*':
                    for (var k = j; k <= s.Length; k++)
                    {
                        if (Segment(p, i + 1, s, k))
                        {
                            return true;
                        }
                    }

                    return false;
                case '?':
                    if (j >= s.Length)
                    {
                        return false;
                    }

                    break;
                default:
                    if (j >= s.Length || p[i] != s[j])
                    {
                        return false;
                    }

                    break;
            }

            i++;
            j++;
        }

        return j == s.Length;
    }
}
