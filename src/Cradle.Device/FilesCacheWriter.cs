using System.Security.Cryptography;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// The next files cache, gathered while a backup runs: entries added in scan order go to an
/// unlinked temporary file (nothing grows in memory with the file count); the few added out
/// of order (files read again at the end of a backup) are kept aside and merged in when the
/// cache is saved, which happens only once the host has committed the backup.
/// </summary>
public sealed class FilesCacheWriter : IDisposable
{
    private readonly ScanOrder _order;
    private readonly FileStream _spool;
    private readonly BinaryWriter _writer;
    private readonly List<CachedFile> _late = [];
    private string? _last;
    private int _spooled;

    /// <summary>Starts an empty cache whose temporary file lives in <paramref name="folder"/>.</summary>
    public FilesCacheWriter(string folder, ScanOrder order)
    {
        _order = order;
        _spool = Spool.Create(folder);
        _writer = new BinaryWriter(_spool, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>Entries added.</summary>
    public int Count => _spooled + _late.Count;

    /// <summary>Remembers a file of a data folder (<see cref="ScanOrder.Knows"/>) and its chunks.</summary>
    public void Add(ScanEntry entry, ChunkId[] chunks)
    {
        var file = new CachedFile(entry.Path, entry.Size, entry.MtimeUnixNs, entry.Inode, chunks);
        if (_last is null || _order.Compare(_last, entry.Path) < 0)
        {
            file.Write(_writer);
            _last = entry.Path;
            _spooled++;
        }
        else
        {
            _late.Add(file);
        }
    }

    /// <summary>
    /// Writes the cache to <paramref name="path"/> atomically, in scan order, with its checksum;
    /// unless <paramref name="current"/> (the cache read at the start of this backup, still at
    /// <paramref name="path"/>) holds the very same bytes, as after an unchanged re-run: then
    /// the file is left as it is (it is durable since it was written) and false is returned.
    /// </summary>
    public bool Save(string path, FilesCache? current = null)
    {
        _writer.Flush();
        // Stable: of two entries for one path, the one added last is kept.
        var late = _late.Select((file, index) => (file, index))
            .OrderBy(x => x.file.Path, _order).ThenByDescending(x => x.index)
            .Select(x => x.file).ToList();
        // Without late entries nothing is merged away, so a different count means different bytes.
        var mayBeSame = current?.Checksum is not null && (late.Count > 0 || _spooled == current.Count);
        if (mayBeSame && WriteContent(Stream.Null, late).AsSpan().SequenceEqual(current!.Checksum))
        {
            return false;
        }

        Durability.WriteAtomically(path, stream => stream.Write(WriteContent(stream, late)));
        return true;
    }

    /// <summary>Writes the header and the entries to <paramref name="stream"/>; returns the checksum of what it wrote.</summary>
    private byte[] WriteContent(Stream stream, List<CachedFile> late)
    {
        using var hashing = new HashingStream(stream);
        using var buffered = new BufferedStream(hashing, 64 * 1024);
        using var w = new BinaryWriter(buffered, Encoding.UTF8, leaveOpen: true);
        w.Write(FilesCache.Magic);
        w.Write(FilesCache.Version);
        var written = 0;
        var next = 0;
        string? previous = null;
        void Emit(CachedFile file)
        {
            if (previous is not null && _order.Compare(previous, file.Path) == 0)
            {
                return;
            }

            file.Write(w);
            previous = file.Path;
            written++;
        }

        _spool.Position = 0;
        using (var r = new BinaryReader(_spool, Encoding.UTF8, leaveOpen: true))
        {
            for (var i = 0; i < _spooled; i++)
            {
                _ = r.ReadByte();
                var file = CachedFile.Read(r, _spool.Length) ?? throw new InvalidOperationException("the files cache spool is damaged");
                while (next < late.Count && _order.Compare(late[next].Path, file.Path) <= 0)
                {
                    Emit(late[next++]);
                }

                Emit(file);
            }
        }

        while (next < late.Count)
        {
            Emit(late[next++]);
        }

        w.Write(FilesCache.EndTag);
        w.Write(written);
        w.Flush();
        return hashing.Hash();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _spool.Dispose();
    }

    /// <summary>Passes writes through, hashing them.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => _hash.GetHashAndReset();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
