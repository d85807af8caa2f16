namespace Cradle.Device;

/// <summary>
/// Which entries of a data folder are not backed up: gitignore-style patterns, matched against
/// the path relative to the data folder (<c>cache/tmp.bin</c>). A pattern without a slash
/// matches a name at any depth (<c>*.tmp</c>); a leading or inner slash anchors it to the data
/// folder (<c>/exports/old</c>, <c>logs/*.gz</c>); a trailing slash matches folders only
/// (<c>cache/</c>); <c>*</c> and <c>?</c> stay within a name, <c>[a-z]</c> is a class,
/// <c>**</c> spans folders (<c>**/build</c>, <c>logs/**</c>); <c>!</c> takes back an earlier
/// exclusion; the last pattern that matches decides. An excluded folder is not entered, so
/// nothing beneath it can be taken back (as in git). Blank lines and <c>#</c> comments are
/// ignored; <c>\#</c> and <c>\!</c> match those characters.
/// </summary>
public sealed class ExcludeRules
{
    private readonly List<Rule> _rules;

    private ExcludeRules(List<Rule> rules) => _rules = rules;

    /// <summary>No pattern: nothing is excluded.</summary>
    public static ExcludeRules None { get; } = new([]);

    public bool IsEmpty => _rules.Count == 0;

    /// <summary>The patterns, checked: <see cref="ArgumentException"/> names the first one that is malformed.</summary>
    public static ExcludeRules Parse(IEnumerable<string> patterns)
    {
        var rules = new List<Rule>();
        foreach (var pattern in patterns)
        {
            if (Problem(pattern) is { } problem)
            {
                throw new ArgumentException($"exclude pattern '{pattern}': {problem}");
            }

            if (Compile(pattern) is { } rule)
            {
                rules.Add(rule);
            }
        }

        return new ExcludeRules(rules);
    }

    /// <summary>Why a pattern is refused (null: it is fine): an unclosed class, a control character, nothing but '!'.</summary>
    public static string? Problem(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Any(char.IsControl))
        {
            return "it contains a control character";
        }

        if (pattern.Length > 1024)
        {
            return "it is longer than 1024 characters";
        }

        var body = pattern.Trim();
        if (body is "!" or "/" or "!/")
        {
            return "it names nothing";
        }

        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '\\')
            {
                i++;
            }
            else if (body[i] == '[' && body.IndexOf(']', i + 1) < 0)
            {
                return "a '[' class is not closed with ']'";
            }
        }

        return null;
    }

    /// <summary>True when the entry at <paramref name="relativePath"/> (below its data folder, '/'-separated) is not to be backed up.</summary>
    public bool IsExcluded(string relativePath, bool isFolder)
    {
        if (_rules.Count == 0)
        {
            return false;
        }

        var segments = relativePath.Split('/');
        var excluded = false;
        foreach (var rule in _rules)
        {
            if ((!rule.FoldersOnly || isFolder) && rule.Matches(segments))
            {
                excluded = !rule.Negated;
            }
        }

        return excluded;
    }

    private static Rule? Compile(string pattern)
    {
        var body = pattern.TrimEnd();
        if (body.Length == 0 || body.StartsWith('#'))
        {
            return null;
        }

        var negated = body.StartsWith('!');
        if (negated)
        {
            body = body[1..];
        }
        else if (body.StartsWith("\\!", StringComparison.Ordinal) || body.StartsWith("\\#", StringComparison.Ordinal))
        {
            body = body[1..];
        }

        var foldersOnly = body.EndsWith('/');
        body = body.TrimEnd('/');
        var anchored = body.Contains('/', StringComparison.Ordinal);
        body = body.TrimStart('/');
        return new Rule(body.Split('/'), anchored, foldersOnly, negated);
    }

    private sealed record Rule(string[] Segments, bool Anchored, bool FoldersOnly, bool Negated)
    {
        public bool Matches(string[] path) => Anchored
            ? MatchFrom(0, path, 0)
            : Glob(Segments[0], 0, path[^1], 0);

        private bool MatchFrom(int i, string[] path, int j)
        {
            if (i == Segments.Length)
            {
                return j == path.Length;
            }

            if (Segments[i] == "**")
            {
                for (var k = j; k <= path.Length; k++)
                {
                    if (MatchFrom(i + 1, path, k))
                    {
                        return true;
                    }
                }

                return false;
            }

            return j < path.Length && Glob(Segments[i], 0, path[j], 0) && MatchFrom(i + 1, path, j + 1);
        }
    }

    /// <summary>One name against one pattern segment: *, ?, [class], \escape.</summary>
    private static bool Glob(string p, int i, string s, int j)
    {
        while (i < p.Length)
        {
            switch (p[i])
            {
                case '*':
                    while (i < p.Length && p[i] == '*')
                    {
                        i++;
                    }

                    for (var k = j; k <= s.Length; k++)
                    {
                        if (Glob(p, i, s, k))
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

                    i++;
                    j++;
                    break;
                case '[':
                    var close = p.IndexOf(']', i + 2 <= p.Length ? i + 2 : i + 1);
                    if (close < 0 || j >= s.Length || !InClass(p.AsSpan(i + 1, close - i - 1), s[j]))
                    {
                        return false;
                    }

                    i = close + 1;
                    j++;
                    break;
                case '\\' when i + 1 < p.Length:
                    if (j >= s.Length || p[i + 1] != s[j])
                    {
                        return false;
                    }

                    i += 2;
                    j++;
                    break;
                default:
                    if (j >= s.Length || p[i] != s[j])
                    {
                        return false;
                    }

                    i++;
                    j++;
                    break;
            }
        }

        return j == s.Length;
    }

    private static bool InClass(ReadOnlySpan<char> set, char c)
    {
        var negate = set.Length > 0 && set[0] is '!' or '^';
        if (negate)
        {
            set = set[1..];
        }

        var found = false;
        for (var k = 0; k < set.Length; k++)
        {
            if (k + 2 < set.Length && set[k + 1] == '-')
            {
                found |= c >= set[k] && c <= set[k + 2];
                k += 2;
            }
            else
            {
                found |= c == set[k];
            }
        }

        return found != negate;
    }
}
