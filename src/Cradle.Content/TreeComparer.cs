namespace Cradle.Content;

/// <summary>Compares two folder trees: the same paths (folders too), sizes, contents, modification times and (on Unix) permission bits. Used by the demo and the tests to check a restore.</summary>
public static class TreeComparer
{
    public static List<string> Compare(string expected, string actual)
    {
        var differences = new List<string>();
        var left = Listing(expected);
        var right = Listing(actual);
        foreach (var path in left.Keys.Except(right.Keys, StringComparer.Ordinal))
        {
            differences.Add($"{path}: missing from the restore");
        }

        foreach (var path in right.Keys.Except(left.Keys, StringComparer.Ordinal))
        {
            differences.Add($"{path}: in the restore but not in the data");
        }

        foreach (var (path, info) in left)
        {
            if (!right.TryGetValue(path, out var other))
            {
                continue;
            }

            if ((info is FileInfo) != (other is FileInfo))
            {
                differences.Add($"{path}: a {(info is FileInfo ? "file" : "folder")} became a {(other is FileInfo ? "file" : "folder")}");
                continue;
            }

            if (info.LastWriteTimeUtc != other.LastWriteTimeUtc)
            {
                differences.Add($"{path}: time {info.LastWriteTimeUtc:O} became {other.LastWriteTimeUtc:O}");
            }

            if (!OperatingSystem.IsWindows() && ((uint)info.UnixFileMode & FileModes.PermissionBits) != ((uint)other.UnixFileMode & FileModes.PermissionBits))
            {
                differences.Add($"{path}: mode {Convert.ToString((uint)info.UnixFileMode & FileModes.PermissionBits, 8)} became {Convert.ToString((uint)other.UnixFileMode & FileModes.PermissionBits, 8)}");
            }

            if (info is FileInfo file && other is FileInfo restored)
            {
                if (file.Length != restored.Length)
                {
                    differences.Add($"{path}: {file.Length} bytes became {restored.Length}");
                }
                else if (!SameContent(file.FullName, restored.FullName))
                {
                    differences.Add($"{path}: content differs");
                }
            }
        }

        return differences;
    }

    private static Dictionary<string, FileSystemInfo> Listing(string root) =>
        new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories)
            .ToDictionary(i => Path.GetRelativePath(root, i.FullName), StringComparer.Ordinal);

    private static bool SameContent(string a, string b)
    {
        using var x = File.OpenRead(a);
        using var y = File.OpenRead(b);
        var bx = new byte[1 << 16];
        var by = new byte[1 << 16];
        while (true)
        {
            var n = x.ReadAtLeast(bx, bx.Length, throwOnEndOfStream: false);
            var m = y.ReadAtLeast(by, by.Length, throwOnEndOfStream: false);
            if (n != m || !bx.AsSpan(0, n).SequenceEqual(by.AsSpan(0, m)))
            {
                return false;
            }

            if (n == 0)
            {
                return true;
            }
        }
    }
}
