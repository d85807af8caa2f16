using System.Buffers.Binary;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// The binary form of a snapshot's file list (docs/storage.md). The host stores it like file
/// content — chunked, deduplicated, compressed — so an unchanged tree costs nothing.
/// <code>
/// "CRDLTREE" | u16 version | varint entry count | entries
/// entry: varint path length | UTF-8 path | u8 kind | varint size | i64 mtime ns | varint mode
///        | varint chunk count | 32-byte chunk ids
///        [version 2, kind | 0x80: varint link length | UTF-8 path of the entry it is a hard link to]
/// </code>
/// Version 2 adds only the hard-link flag and path; a tree without links is written as version
/// 1, byte for byte as before, so older builds read it and unchanged trees still deduplicate.
/// </summary>
internal static class SnapshotTree
{
    /// <summary>The format of a tree without hard links.</summary>
    public const ushort Version = 1;

    /// <summary>The format of a tree with at least one hard link (<see cref="TreeEntry.LinkTo"/>).</summary>
    public const ushort LinksVersion = 2;

    /// <summary>The bit of an entry's kind byte that says a link path follows its chunk ids (version 2).</summary>
    private const byte LinkFlag = 0x80;

    /// <summary>A tree with more entries than this is refused (a hostile or corrupt count).</summary>
    public const int MaxEntries = WireLimits.MaxEntriesPerSnapshot;

    /// <summary>The fewest bytes an entry takes: path length, kind, size, mtime, mode, chunk count.</summary>
    private const int MinEntryLength = 1 + 1 + 1 + 8 + 1 + 1;

    private static ReadOnlySpan<byte> Magic => "CRDLTREE"u8;

    public static byte[] Serialize(IReadOnlyList<TreeEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var stream = OpenRead(entries))
        {
            stream.CopyTo(buffer);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The tree's bytes as a stream that encodes one entry at a time as it is read: a snapshot
    /// of 100,000 files is chunked without its whole encoding in memory.
    /// </summary>
    public static Stream OpenRead(IReadOnlyList<TreeEntry> entries) => new EncodingStream(entries);

    /// <summary>The most bytes <see cref="WriteHeader"/> writes: magic, version and a 5-byte count.</summary>
    internal const int MaxHeaderLength = 8 + 2 + 5;

    /// <summary>Writes the tree's header: magic, version (<see cref="LinksVersion"/> when any entry is a hard link), entry count.</summary>
    internal static void WriteHeader(BinaryWriter writer, int count, bool links)
    {
        writer.Write(Magic);
        writer.Write(links ? LinksVersion : Version);
        writer.Write7BitEncodedInt(count);
    }

    /// <summary>Writes one entry in the tree's encoding.</summary>
    internal static void WriteEntry(BinaryWriter writer, TreeEntry e)
    {
        var path = Encoding.UTF8.GetBytes(e.Path);
        writer.Write7BitEncodedInt(path.Length);
        writer.Write(path);
        writer.Write((byte)((byte)e.Kind | (e.LinkTo is null ? 0 : LinkFlag)));
        writer.Write7BitEncodedInt64(e.Size);
        writer.Write(e.MtimeUnixNs);
        writer.Write7BitEncodedInt64(e.Mode);
        writer.Write7BitEncodedInt(e.Chunks.Length);
        Span<byte> id = stackalloc byte[ChunkId.Length];
        foreach (var c in e.Chunks)
        {
            c.WriteTo(id);
            writer.Write(id);
        }

        if (e.LinkTo is not null)
        {
            var link = Encoding.UTF8.GetBytes(e.LinkTo);
            writer.Write7BitEncodedInt(link.Length);
            writer.Write(link);
        }
    }

    private sealed class EncodingStream : Stream
    {
        private readonly IReadOnlyList<TreeEntry> _entries;
        private readonly MemoryStream _pending = new();
        private readonly BinaryWriter _writer;
        private int _next = -1;
        private int _offset;

        public EncodingStream(IReadOnlyList<TreeEntry> entries)
        {
            _entries = entries;
            _writer = new BinaryWriter(_pending, Encoding.UTF8, leaveOpen: true);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        /// <summary>Fills the buffer with as many encoded entries as fit; 0 only at the end.</summary>
        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length && (_offset < _pending.Length || Encode()))
            {
                var n = Math.Min(buffer.Length - total, (int)_pending.Length - _offset);
                _pending.GetBuffer().AsSpan(_offset, n).CopyTo(buffer[total..]);
                _offset += n;
                total += n;
            }

            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        /// <summary>Encodes the header or the next entry into the pending bytes; false at the end.</summary>
        private bool Encode()
        {
            if (_next >= _entries.Count)
            {
                return false;
            }

            _pending.SetLength(0);
            _offset = 0;
            if (_next < 0)
            {
                WriteHeader(_writer, _entries.Count, _entries.Any(e => e.LinkTo is not null));
            }
            else
            {
                WriteEntry(_writer, _entries[_next]);
            }

            _writer.Flush();
            _next++;
            return true;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _writer.Dispose();
                _pending.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Parses a tree; every count and length is checked against what is left before use.</summary>
    public static List<TreeEntry> Parse(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data);
        if (!r.Take(Magic.Length).SequenceEqual(Magic))
        {
            throw new StoreFormatException("snapshot tree does not start with its magic: damaged");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(r.Take(2));
        if (version is not Version and not LinksVersion)
        {
            throw new StoreFormatException($"snapshot tree has format version {version}; this build reads versions {Version} and {LinksVersion} only");
        }

        var count = r.VarInt(MaxEntries);
        // The claimed count sizes the list only as far as the bytes left can hold entries.
        var entries = new List<TreeEntry>(Math.Min(count, r.Remaining / MinEntryLength));
        for (var i = 0; i < count; i++)
        {
            var pathLength = r.VarInt(SnapshotPath.MaxLength * 4);
            var path = Encoding.UTF8.GetString(r.Take(pathLength));
            var reason = SnapshotPath.Check(path);
            if (reason is not null)
            {
                throw new StoreFormatException($"snapshot tree entry {i} has a refused path: {reason}");
            }

            var kindByte = r.Take(1)[0];
            var linked = (kindByte & LinkFlag) != 0;
            var kind = (EntryKind)(kindByte & ~LinkFlag);
            if (linked && (version < LinksVersion || kind != EntryKind.File))
            {
                throw new StoreFormatException($"snapshot tree entry {i} ({path}) is marked a hard link, which a version {version} tree or a folder cannot be: damaged");
            }

            if (kind is not EntryKind.File and not EntryKind.Directory)
            {
                throw new StoreFormatException($"snapshot tree entry {i} ({path}) has unknown kind {(int)kind}");
            }

            var size = r.VarLong();
            var mtime = BinaryPrimitives.ReadInt64LittleEndian(r.Take(8));
            var mode = r.VarLong();
            var chunkCount = r.VarInt(r.Remaining / ChunkId.Length);
            var chunks = new ChunkId[chunkCount];
            for (var c = 0; c < chunkCount; c++)
            {
                chunks[c] = ChunkId.Read(r.Take(ChunkId.Length));
            }

            string? linkTo = null;
            if (linked)
            {
                linkTo = Encoding.UTF8.GetString(r.Take(r.VarInt(SnapshotPath.MaxLength * 4)));
                var linkReason = SnapshotPath.Check(linkTo);
                if (linkReason is not null || linkTo == path)
                {
                    throw new StoreFormatException($"snapshot tree entry {i} ({path}) is a hard link to a refused path: {linkReason ?? "itself"}");
                }
            }

            entries.Add(new TreeEntry(path, kind, size, mtime, (uint)Math.Min(mode, uint.MaxValue), chunks) { LinkTo = linkTo });
        }

        if (r.Remaining != 0)
        {
            throw new StoreFormatException($"snapshot tree has {r.Remaining} bytes after its last entry: damaged");
        }

        return entries;
    }

    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly int Remaining => _rest.Length;

        public ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || count > _rest.Length)
            {
                throw new StoreFormatException("snapshot tree ends in the middle of an entry: truncated or damaged");
            }

            var taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }

        public long VarLong()
        {
            long result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = Take(1)[0];
                result |= (long)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    if (result < 0)
                    {
                        throw new StoreFormatException("snapshot tree has a negative size or count: damaged");
                    }

                    return result;
                }
            }

            throw new StoreFormatException("snapshot tree has a malformed number: damaged");
        }

        public int VarInt(int max)
        {
            var value = VarLong();
            if (value > max)
            {
                throw new StoreFormatException($"snapshot tree has a count of {value}, above the limit of {max}: damaged or hostile");
            }

            return (int)value;
        }
    }
}
