using System.Collections.Concurrent;

namespace Cradle.ActiveSync.Emulator;

/// <summary>
/// A folder on the test machine as the device's file system. Windows CE names compare ignoring case
/// and paths use '\' (SynCE also sends '/'); a path that would leave the folder ("..") resolves to
/// nothing, as it would on a device with no such entry. Attributes: folders are Directory, files
/// Archive, the configured root folders are storage cards (Directory | Temporary). Creation times a
/// host sets are kept in memory (Linux cannot set a file's birth time).
/// </summary>
public sealed class EmulatedFileSystem(string root, IEnumerable<string> storageCards)
{
    public const uint AttributeReadOnly = 0x1;
    public const uint AttributeHidden = 0x2;
    public const uint AttributeDirectory = 0x10;
    public const uint AttributeArchive = 0x20;
    public const uint AttributeTemporary = 0x100;

    private readonly HashSet<string> _cards = new(storageCards, StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, long> _creationTimes = new(StringComparer.Ordinal);

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Splits a device path into names; null when it is not one (relative, "..", empty names).</summary>
    public static string[]? Split(string? devicePath)
    {
        if (string.IsNullOrEmpty(devicePath))
        {
            return null;
        }

        var text = devicePath.Replace('/', '\\');
        if (!text.StartsWith('\\'))
        {
            return null;
        }

        var names = text.Split('\\', StringSplitOptions.RemoveEmptyEntries);
        return names.Any(n => n is "." or ".." || n.Contains('\0', StringComparison.Ordinal)) ? null : names;
    }

    /// <summary>The host path of an existing entry, matching names ignoring case; null when absent.</summary>
    public string? Resolve(string? devicePath)
    {
        var names = Split(devicePath);
        return names is null ? null : Resolve(names);
    }

    public string? Resolve(IReadOnlyList<string> names)
    {
        var current = Root;
        foreach (var name in names)
        {
            if (!Directory.Exists(current))
            {
                return null;
            }

            var match = Directory.EnumerateFileSystemEntries(current).FirstOrDefault(e => string.Equals(Path.GetFileName(e), name, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                return null;
            }

            current = match;
        }

        return current;
    }

    /// <summary>Where a new entry goes: its parent must exist. Null when the parent does not.</summary>
    public string? ResolveNew(string? devicePath)
    {
        var names = Split(devicePath);
        if (names is null || names.Length == 0)
        {
            return null;
        }

        var parent = Resolve(names[..^1]);
        if (parent is null || !Directory.Exists(parent))
        {
            return null;
        }

        return Resolve(names) ?? Path.Combine(parent, names[^1]);
    }

    public bool IsStorageCard(string hostPath) =>
        Directory.Exists(hostPath) && string.Equals(Path.GetDirectoryName(hostPath), Root, StringComparison.Ordinal) && _cards.Contains(Path.GetFileName(hostPath));

    public uint Attributes(string hostPath)
    {
        if (Directory.Exists(hostPath))
        {
            return AttributeDirectory | (IsStorageCard(hostPath) ? AttributeTemporary : 0);
        }

        var attributes = AttributeArchive;
        if (Path.GetFileName(hostPath).StartsWith('.'))
        {
            attributes |= AttributeHidden;
        }

        return attributes;
    }

    public long CreationTime(string hostPath) =>
        _creationTimes.TryGetValue(hostPath, out var set) ? set : File.GetLastWriteTimeUtc(hostPath).ToFileTimeUtc();

    public void SetCreationTime(string hostPath, long fileTime) => _creationTimes[hostPath] = fileTime;

    public static long LastWriteTime(string hostPath) => File.GetLastWriteTimeUtc(hostPath).ToFileTimeUtc();

    public static long LastAccessTime(string hostPath) => File.GetLastAccessTimeUtc(hostPath).ToFileTimeUtc();

    public static long Size(string hostPath) => File.Exists(hostPath) ? new FileInfo(hostPath).Length : 0;

    /// <summary>Entries of a folder matching a pattern (* and ?, ignoring case; "*.*" matches every name).</summary>
    public static IEnumerable<string> Match(string folder, string pattern) =>
        Directory.EnumerateFileSystemEntries(folder)
            .Where(e => Wildcard(Path.GetFileName(e), pattern))
            .OrderBy(e => Path.GetFileName(e), StringComparer.OrdinalIgnoreCase);

    public static bool HasWildcard(string name) => name.Contains('*', StringComparison.Ordinal) || name.Contains('?', StringComparison.Ordinal);

    private static bool Wildcard(string name, string pattern)
    {
        if (pattern is "*" or "*.*")
        {
            return true;
        }

        return Match(name.ToUpperInvariant(), 0, pattern.ToUpperInvariant(), 0);

        static bool Match(string s, int i, string p, int j)
        {
            while (j < p.Length)
            {
                if (p[j] == '*')
                {
                    for (var k = i; k <= s.Length; k++)
                    {
                        if (Match(s, k, p, j + 1))
                        {
                            return true;
                        }
                    }

                    return false;
                }

                if (i >= s.Length || (p[j] != '?' && p[j] != s[i]))
                {
                    return false;
                }

                i++;
                j++;
            }

            return i == s.Length;
        }
    }
}
