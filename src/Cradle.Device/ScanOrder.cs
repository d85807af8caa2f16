namespace Cradle.Device;

/// <summary>
/// The order in which the scanner finds paths: the data folders in their configured order,
/// then within a folder name by name in ordinal order, a folder's entries right after it (so
/// "a/z" comes before "a-x": the separator sorts below every other character). The files
/// cache is kept in this order so that it can be merged with a scan in one pass.
/// </summary>
public sealed class ScanOrder : IComparer<string>
{
    private readonly Dictionary<string, int> _folders;

    public ScanOrder(IReadOnlyList<DataFolder> folders)
    {
        _folders = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < folders.Count; i++)
        {
            _folders.TryAdd(folders[i].Label, i);
        }
    }

    /// <summary>Whether the path lies in one of the data folders.</summary>
    public bool Knows(string path) => Position(path) != int.MaxValue;

    /// <summary>Compares two paths of known folders (<see cref="Knows"/>).</summary>
    public int Compare(string? x, string? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var byFolder = Position(x).CompareTo(Position(y));
        return byFolder != 0 ? byFolder : ComparePaths(x, y);
    }

    /// <summary>Ordinal comparison in which '/' sorts below every other character: name by name.</summary>
    public static int ComparePaths(string x, string y)
    {
        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a == b)
            {
                continue;
            }

            return a == '/' ? -1 : b == '/' ? 1 : a.CompareTo(b);
        }

        return x.Length.CompareTo(y.Length);
    }

    private int Position(string path) => _folders.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(Label(path), out var position) ? position : int.MaxValue;

    private static ReadOnlySpan<char> Label(string path)
    {
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? path : path.AsSpan(0, slash);
    }
}
