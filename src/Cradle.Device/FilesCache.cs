using System.Security.Cryptography;
using System.Text;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Device;

/// <summary>
/// What the device knows of files it has already chunked: size, time and inode, and the chunk
/// ids of the content. A file whose three match is not read again. The cache is a hint: the
/// host still answers which chunks it lacks, and a chunk it lacks makes the file be read again.
/// <para>
/// The cache is never held in memory: it is a file kept in scan order (<see cref="ScanOrder"/>),
/// read one entry at a time alongside the scan, and the next one is written as the backup
/// goes (<see cref="FilesCacheWriter"/>).
/// Binary format v2 (<c>volatile/files.cache</c>): "CRDLFCCH" | u16 version | entries, each
/// u8 1 | string path | i64 size | i64 mtime ns | u64 inode | i32 chunk count | ids |
/// then u8 0 | i32 entry count | SHA-256 of every byte before it. A file whose checksum does
/// not match is not used at all (every file is read again), so a damaged cache can cost time,
/// never name wrong chunks for a file.
/// </para>
/// </summary>
public sealed class FilesCache : IDisposable
{
    internal const ushort Version = 2;
    internal static readonly byte[] Magic = "CRDLFCCH"u8.ToArray();
    internal const byte EntryTag = 1;
    internal const byte EndTag = 0;
    internal const int HeaderLength = 10;
    internal const int TrailerLength = 1 + 4 + 32;

    private readonly BinaryReader? _reader;
    private readonly ScanOrder? _order;
    private readonly long _end;
    private CachedFile? _current;
    private bool _done;

    private FilesCache(BinaryReader? reader, ScanOrder? order, long end, int count, byte[]? checksum)
    {
        _reader = reader;
        _order = order;
        _end = end;
        Count = count;
        Checksum = checksum;
        _done = reader is null;
    }

    public static FilesCache Empty() => new(null, null, 0, 0, null);

    /// <summary>Entries in the cache file.</summary>
    public int Count { get; }

    /// <summary>
    /// The checksum of the file as it was opened and checked (the SHA-256 of every byte before
    /// it); null for an empty cache. A next cache of the same checksum has the same bytes, and
    /// is not written again (<see cref="FilesCacheWriter.Save"/>).
    /// </summary>
    public byte[]? Checksum { get; }

    /// <summary>
    /// The file's chunk ids when size, time and inode are what they were. Files are looked up
    /// in scan order; the cache reads forward past the files that are gone, and a path asked
    /// out of order is a miss.
    /// </summary>
    public ChunkId[]? Lookup(ScanEntry entry)
    {
        while (true)
        {
            if (_current is null && !ReadNext())
            {
                return null;
            }

            var cached = _current!;
            if (!_order!.Knows(cached.Path))
            {
                // A data folder that is no longer backed up.
                _current = null;
                continue;
            }

            var order = _order.Compare(cached.Path, entry.Path);
            if (order > 0)
            {
                return null;
            }

            _current = null;
            if (order == 0)
            {
                return cached.Size == entry.Size && cached.MtimeUnixNs == entry.MtimeUnixNs && cached.Inode == entry.Inode ? cached.Chunks : null;
            }
        }
    }

    /// <summary>
    /// Opens the cache and checks it whole (format, version, checksum) before any entry is
    /// used; a missing file is an empty cache, a damaged one throws <see cref="StoreFormatException"/>.
    /// </summary>
    public static FilesCache Open(string path, ScanOrder order)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Empty();
        }

        try
        {
            var (count, checksum) = Check(path, stream);
            stream.Position = HeaderLength;
            return new FilesCache(new BinaryReader(stream, Encoding.UTF8), order, stream.Length - TrailerLength, count, checksum);
        }
        catch (Exception e) when (e is not StoreFormatException)
        {
            stream.Dispose();
            throw e is IOException or EndOfStreamException
                ? new StoreFormatException($"{path} is damaged: {e.Message}", e)
                : e;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The entry count and the checksum, once the header, the trailer and the checksum are right.</summary>
    private static (int Count, byte[] Checksum) Check(string path, FileStream stream)
    {
        var length = stream.Length;
        Span<byte> header = stackalloc byte[HeaderLength];
        if (length < HeaderLength + TrailerLength)
        {
            throw new StoreFormatException($"{path} is truncated");
        }

        stream.ReadExactly(header);
        if (!header[..Magic.Length].SequenceEqual(Magic) || BitConverter.ToUInt16(header[Magic.Length..]) != Version)
        {
            throw new StoreFormatException($"{path} is not a files cache of version {Version}");
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header);
        var buffer = new byte[64 * 1024];
        var left = length - HeaderLength - 32;
        while (left > 0)
        {
            var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0)
            {
                throw new StoreFormatException($"{path} is truncated");
            }

            hash.AppendData(buffer, 0, n);
            left -= n;
        }

        var expected = new byte[32];
        stream.ReadExactly(expected);
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(expected))
        {
            throw new StoreFormatException($"{path} is damaged or truncated: its checksum does not match");
        }

        Span<byte> end = stackalloc byte[5];
        stream.Position = length - TrailerLength;
        stream.ReadExactly(end);
        var count = BitConverter.ToInt32(end[1..]);
        if (end[0] != EndTag || count < 0)
        {
            throw new StoreFormatException($"{path} has a damaged end");
        }

        return (count, expected);
    }

    /// <summary>The next entry; false at the end, or (the file changed since it was checked) at anything malformed.</summary>
    private bool ReadNext()
    {
        if (_done)
        {
            return false;
        }

        try
        {
            if (_reader!.BaseStream.Position >= _end || _reader.ReadByte() != EntryTag)
            {
                _done = true;
                return false;
            }

            _current = CachedFile.Read(_reader, _end);
            if (_current is null)
            {
                _done = true;
            }

            return _current is not null;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or FormatException or DecoderFallbackException)
        {
            _done = true;
            return false;
        }
    }

    public void Dispose() => _reader?.Dispose();
}

/// <summary>One file of the cache.</summary>
internal sealed record CachedFile(string Path, long Size, long MtimeUnixNs, ulong Inode, ChunkId[] Chunks)
{
    public void Write(BinaryWriter w)
    {
        w.Write(FilesCache.EntryTag);
        w.Write(Path);
        w.Write(Size);
        w.Write(MtimeUnixNs);
        w.Write(Inode);
        w.Write(Chunks.Length);
        Span<byte> id = stackalloc byte[ChunkId.Length];
        foreach (var c in Chunks)
        {
            c.WriteTo(id);
            w.Write(id);
        }
    }

    /// <summary>The entry after its tag; null when it claims more chunks than there are bytes before <paramref name="end"/>.</summary>
    public static CachedFile? Read(BinaryReader r, long end)
    {
        var path = r.ReadString();
        var size = r.ReadInt64();
        var mtime = r.ReadInt64();
        var inode = r.ReadUInt64();
        var chunkCount = r.ReadInt32();
        if (chunkCount < 0 || (long)chunkCount * ChunkId.Length > end - r.BaseStream.Position)
        {
            return null;
        }

        var chunks = new ChunkId[chunkCount];
        Span<byte> id = stackalloc byte[ChunkId.Length];
        for (var c = 0; c < chunkCount; c++)
        {
            r.BaseStream.ReadExactly(id);
            chunks[c] = ChunkId.Read(id);
        }

        return new CachedFile(path, size, mtime, inode, chunks);
    }
}
