using System.Text;
using Cradle.Content;

namespace Cradle.Device;

/// <summary>
/// A scan's entries, spooled to an unlinked temporary file as the walk finds them (memory does
/// not grow with the file count), with the totals the backup announces before it starts.
/// <see cref="Entries"/> reads the spool from its start, once at a time.
/// </summary>
public sealed class ScanResult : IDisposable, IScanReport
{
    private readonly FileStream _spool;
    private readonly BinaryWriter _writer;
    private int _count;

    internal ScanResult(string folder)
    {
        _spool = Spool.Create(folder);
        _writer = new BinaryWriter(_spool, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>What was left out by design (links, device files): warnings.</summary>
    public List<string> Skipped { get; } = [];

    /// <summary>What could not be backed up and has no storable name: gaps.</summary>
    public List<string> Unnamed { get; } = [];

    /// <summary>Entries found with a problem (a folder that could not be listed, a missing data folder).</summary>
    public long Problems { get; private set; }

    void IScanReport.Skipped(string message) => Skipped.Add(message);

    void IScanReport.Unnamed(string message) => Unnamed.Add(message);

    /// <summary>Regular files found.</summary>
    public long Files { get; private set; }

    /// <summary>Their sizes.</summary>
    public long Bytes { get; private set; }

    /// <summary>The entries in the order the walk found them, read back from the spool.</summary>
    public IEnumerable<ScanEntry> Entries
    {
        get
        {
            _writer.Flush();
            return Read(_count);
        }
    }

    internal void Add(ScanEntry entry)
    {
        _writer.Write(entry.Path);
        _writer.Write(entry.FullPath);
        _writer.Write((byte)entry.Kind);
        _writer.Write(entry.Size);
        _writer.Write(entry.MtimeUnixNs);
        _writer.Write(entry.Inode);
        _writer.Write(entry.Mode);
        _writer.Write(entry.Problem ?? "");
        _writer.Write(entry.LinkTo ?? "");
        _count++;
        if (entry.Problem is not null)
        {
            Problems++;
        }
        else if (entry.Kind == EntryKind.File)
        {
            Files++;
            Bytes += entry.Size;
        }
    }

    private IEnumerable<ScanEntry> Read(int count)
    {
        _spool.Position = 0;
        using var reader = new BinaryReader(_spool, Encoding.UTF8, leaveOpen: true);
        for (var i = 0; i < count; i++)
        {
            var entry = new ScanEntry(reader.ReadString(), reader.ReadString(), (EntryKind)reader.ReadByte(),
                reader.ReadInt64(), reader.ReadInt64(), reader.ReadUInt64(), reader.ReadUInt32());
            var problem = reader.ReadString();
            var linkTo = reader.ReadString();
            yield return entry with { Problem = problem.Length == 0 ? null : problem, LinkTo = linkTo.Length == 0 ? null : linkTo };
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _spool.Dispose();
    }
}
