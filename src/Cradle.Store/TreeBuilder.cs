using System.Text;
using Cradle.Content;

namespace Cradle.Store;

/// <summary>
/// A snapshot's entries as they arrive, encoded one at a time (<see cref="SnapshotTree"/>'s
/// format) into an unnamed temporary file: a backup of 100,000 files does not hold its entries
/// in memory. The tree's header names the entry count, known only at the end, so the entries
/// start after room for the longest header and the header is written right before them.
/// </summary>
internal sealed class TreeBuilder : IDisposable
{
    private readonly FileStream _file;
    private readonly BinaryWriter _writer;
    private bool _reading;
    private bool _links;

    /// <summary>Starts an empty tree whose temporary file lives in <paramref name="folder"/> (made when missing).</summary>
    public TreeBuilder(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"tree-{Guid.NewGuid():N}.tmp");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete, 64 * 1024,
            OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None);
        if (!OperatingSystem.IsWindows())
        {
            // Unlinked at once: nothing is left behind even when the process is killed.
            File.Delete(path);
        }

        _file.Position = SnapshotTree.MaxHeaderLength;
        _writer = new BinaryWriter(_file, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>Entries added.</summary>
    public int Count { get; private set; }

    /// <summary>File entries added.</summary>
    public long Files { get; private set; }

    /// <summary>The sizes of the file entries added.</summary>
    public long Bytes { get; private set; }

    public void Add(TreeEntry entry)
    {
        if (_reading)
        {
            throw new InvalidOperationException("the tree is being read; no more entries");
        }

        if (Count >= SnapshotTree.MaxEntries)
        {
            throw new InvalidOperationException($"a tree holds at most {SnapshotTree.MaxEntries} entries");
        }

        SnapshotTree.WriteEntry(_writer, entry);
        _links |= entry.LinkTo is not null;
        Count++;
        if (entry.Kind == EntryKind.File)
        {
            Files++;
            Bytes += entry.Size;
        }
    }

    /// <summary>
    /// The tree's bytes, header first: the temporary file itself, positioned at the header.
    /// Ends adding; disposing the stream or this builder closes (and so removes) the file.
    /// </summary>
    public Stream OpenRead()
    {
        if (_reading)
        {
            throw new InvalidOperationException("the tree is read once");
        }

        _reading = true;
        _writer.Dispose();
        using var header = new MemoryStream();
        using (var writer = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            SnapshotTree.WriteHeader(writer, Count, _links);
        }

        var start = SnapshotTree.MaxHeaderLength - (int)header.Length;
        _file.Position = start;
        _file.Write(header.GetBuffer().AsSpan(0, (int)header.Length));
        _file.Position = start;
        return _file;
    }

    public void Dispose()
    {
        if (!_reading)
        {
            _writer.Dispose();
        }

        _file.Dispose();
    }
}
