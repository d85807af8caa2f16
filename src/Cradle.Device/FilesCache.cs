using System.Text;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Device;

/// <summary>
/// What the device knows of files it has already chunked: size, time and inode, and the chunk
/// ids of the content. A file whose three match is not read again. The cache is a hint: the
/// host still answers which chunks it lacks, and a chunk it lacks makes the file be read again.
/// Binary format v1 (<c>volatile/files.cache</c>): "CRDLFCCH" | u16 version | i32 count |
/// entries (string path | i64 size | i64 mtime ns | u64 inode | i32 chunk count | ids).
/// </summary>
public sealed class FilesCache
{
    private const ushort Version = 1;
    private static readonly byte[] Magic = "CRDLFCCH"u8.ToArray();

    private readonly Dictionary<string, CachedFile> _files;

    private FilesCache(Dictionary<string, CachedFile> files) => _files = files;

    public static FilesCache Empty() => new(new Dictionary<string, CachedFile>(StringComparer.Ordinal));

    public int Count => _files.Count;

    /// <summary>The file's chunk ids when size, time and inode are what they were.</summary>
    public ChunkId[]? Lookup(ScanEntry entry) =>
        _files.TryGetValue(entry.Path, out var cached) && cached.Size == entry.Size && cached.MtimeUnixNs == entry.MtimeUnixNs && cached.Inode == entry.Inode
            ? cached.Chunks
            : null;

    public void Set(ScanEntry entry, ChunkId[] chunks) => _files[entry.Path] = new CachedFile(entry.Size, entry.MtimeUnixNs, entry.Inode, chunks);

    /// <summary>Loads the cache; a missing file is an empty cache, a damaged one throws <see cref="StoreFormatException"/>.</summary>
    public static FilesCache Load(string path)
    {
        if (!File.Exists(path))
        {
            return Empty();
        }

        using var stream = File.OpenRead(path);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || r.ReadUInt16() != Version)
            {
                throw new StoreFormatException($"{path} is not a files cache of version {Version}");
            }

            var count = r.ReadInt32();
            if (count < 0 || count > SnapshotTree.MaxEntries)
            {
                throw new StoreFormatException($"{path} claims {count} entries: damaged");
            }

            // The claimed count sizes nothing: a damaged count must not allocate for entries that are not there.
            var files = new Dictionary<string, CachedFile>(StringComparer.Ordinal);
            var id = new byte[ChunkId.Length];
            for (var i = 0; i < count; i++)
            {
                var name = r.ReadString();
                var size = r.ReadInt64();
                var mtime = r.ReadInt64();
                var inode = r.ReadUInt64();
                var chunkCount = r.ReadInt32();
                if (chunkCount < 0 || (long)chunkCount * ChunkId.Length > stream.Length - stream.Position)
                {
                    throw new StoreFormatException($"{path}: entry {i} claims {chunkCount} chunks: damaged");
                }

                var chunks = new ChunkId[chunkCount];
                for (var c = 0; c < chunkCount; c++)
                {
                    r.BaseStream.ReadExactly(id);
                    chunks[c] = ChunkId.Read(id);
                }

                files[name] = new CachedFile(size, mtime, inode, chunks);
            }

            return new FilesCache(files);
        }
        catch (EndOfStreamException e)
        {
            throw new StoreFormatException($"{path} is truncated", e);
        }
        catch (Exception e) when (e is IOException or FormatException or DecoderFallbackException)
        {
            throw new StoreFormatException($"{path} is damaged: {e.Message}", e);
        }
    }

    /// <summary>Writes the cache atomically, keeping only the files named in <paramref name="keep"/>; streamed to disk, not gathered in memory.</summary>
    public void Save(string path, IReadOnlySet<string> keep) => Durability.WriteAtomically(path, stream =>
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write(_files.Keys.Count(keep.Contains));
        Span<byte> id = stackalloc byte[ChunkId.Length];
        foreach (var (name, file) in _files)
        {
            if (!keep.Contains(name))
            {
                continue;
            }

            w.Write(name);
            w.Write(file.Size);
            w.Write(file.MtimeUnixNs);
            w.Write(file.Inode);
            w.Write(file.Chunks.Length);
            foreach (var c in file.Chunks)
            {
                c.WriteTo(id);
                w.Write(id);
            }
        }
    });

    private sealed record CachedFile(long Size, long MtimeUnixNs, ulong Inode, ChunkId[] Chunks);
}
