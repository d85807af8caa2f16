using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Reads what the store holds: snapshot trees and chunk contents, each chunk checked against
/// its SHA-256 id before it is handed out. One instance per reader; not thread-safe.
/// </summary>
internal sealed class SnapshotReader : IDisposable
{
    private readonly ChunkStore _store;
    private readonly Catalog _catalog;
    private readonly ChunkCodec _codec = new();
    private readonly Dictionary<string, IPackHandle> _packs = new(StringComparer.Ordinal);

    /// <summary>Most packs one reader keeps open (an object's handle holds a read-ahead window).</summary>
    private const int MaxOpenPacks = 8;
    private byte[] _stored = [];
    private bool _disposed;

    internal SnapshotReader(ChunkStore store, Catalog catalog)
    {
        _store = store;
        _catalog = catalog;
        store.Groups.AddReader();
    }

    public Catalog Catalog => _catalog;

    /// <summary>Another reader of the same store, for another thread (readers are not thread-safe).</summary>
    public SnapshotReader Fork() => _store.OpenReader();

    /// <summary>The entries of a snapshot, in the order the device sent them.</summary>
    public async Task<List<TreeEntry>> LoadTreeAsync(SnapshotInfo snapshot, CancellationToken cancellationToken)
    {
        var total = 0L;
        var locations = new List<ChunkLocation>(snapshot.Tree.Length);
        foreach (var id in snapshot.Tree)
        {
            var location = _catalog.FindChunk(id) ?? throw new StoreCorruptException($"snapshot {snapshot.Id} of {snapshot.Device}: tree chunk {id} is missing from the catalog");
            locations.Add(location);
            total += location.Entry.RawLength;
        }

        var buffer = new byte[total];
        var offset = 0;
        foreach (var location in locations)
        {
            await ReadChunkAsync(location, buffer.AsMemory(offset, location.Entry.RawLength), cancellationToken).ConfigureAwait(false);
            offset += location.Entry.RawLength;
        }

        try
        {
            return SnapshotTree.Parse(buffer);
        }
        catch (StoreFormatException e)
        {
            throw new StoreCorruptException($"snapshot {snapshot.Id} of {snapshot.Device}: {e.Message}", e);
        }
    }

    public ChunkLocation Locate(ChunkId id)
    {
        var location = _catalog.FindChunk(id) ?? throw new StoreCorruptException($"chunk {id} is missing from the catalog");
        if (location.Entry.RawLength is < 1 or > ChunkerOptions.AbsoluteMaxSize)
        {
            // Callers size buffers by it: a damaged row must not make them allocate gigabytes.
            throw new StoreCorruptException($"the catalog gives chunk {id} {location.Entry.RawLength} bytes, beyond any chunk (damaged catalog)");
        }

        return location;
    }

    /// <summary>
    /// Reads a chunk's raw bytes into <paramref name="destination"/> (exactly its raw length) and
    /// verifies its hash.
    /// </summary>
    public async ValueTask ReadChunkAsync(ChunkLocation location, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var entry = location.Entry;
        if (destination.Length != entry.RawLength)
        {
            throw new ArgumentException($"destination is {destination.Length} bytes, the chunk {entry.RawLength}", nameof(destination));
        }

        if (entry.Compression == ChunkCompression.ZstdGroup)
        {
            // Not cancelled by this reader's token: other readers of the store may be waiting on
            // the same load, and one record's read is bounded (PackFormat.MaxRecordLength).
            using var lease = await _store.Groups.GetAsync(location.PackName, entry.Offset, () => LoadGroupAsync(location, CancellationToken.None)).ConfigureAwait(false);
            var group = lease.Group;
            var range = group.Table.Find(entry.Id)
                ?? throw new StoreCorruptException($"pack {location.PackName}: the group at offset {entry.Offset} does not list chunk {entry.Id} (damaged pack or catalog)");
            var member = group.Raw.AsSpan(range);
            if (member.Length != destination.Length)
            {
                throw new StoreCorruptException($"pack {location.PackName}: chunk {entry.Id} is {member.Length} bytes in the group at offset {entry.Offset}, the catalog says {entry.RawLength}");
            }

            member.CopyTo(destination.Span);
        }
        else
        {
            var stored = await ReadStoredAsync(location, cancellationToken).ConfigureAwait(false);
            try
            {
                _codec.Decompress(entry.Compression, stored.Span, destination.Span);
            }
            catch (CradleProtocolException e)
            {
                throw new StoreCorruptException($"pack {location.PackName}: chunk {entry.Id} at offset {entry.Offset} is damaged ({e.Message})", e);
            }
        }

        if (ChunkId.Of(destination.Span) != entry.Id)
        {
            throw new StoreCorruptException($"pack {location.PackName}: chunk {entry.Id} at offset {entry.Offset} does not match its hash (damaged data)");
        }
    }

    /// <summary>
    /// Reads and verifies a chunk (as <see cref="ReadChunkAsync"/>, into <paramref name="destination"/>)
    /// and returns it in the form it travels in: as stored, or, for a member of a compression
    /// group, compressed on its own — by <paramref name="sendCodec"/> when given (a faster level
    /// for a fast link), else at the store's level. Valid until the next read.
    /// </summary>
    public async ValueTask<(ChunkCompression Compression, ReadOnlyMemory<byte> Data)> ReadChunkToSendAsync(ChunkLocation location, Memory<byte> destination, ChunkCodec? sendCodec, CancellationToken cancellationToken)
    {
        await ReadChunkAsync(location, destination, cancellationToken).ConfigureAwait(false);
        return location.Entry.Compression == ChunkCompression.ZstdGroup
            ? (sendCodec ?? _codec).Compress(destination)
            : (location.Entry.Compression, _stored.AsMemory(0, location.Entry.StoredLength));
    }

    /// <summary>
    /// A chunk in the form it travels in to a device that verifies what it receives (a restore
    /// over the wire: <c>ChunkMessage.Open</c> checks every chunk against its id): a chunk record's
    /// stored bytes as they are, or a group member compressed on its own by <paramref name="sendCodec"/>.
    /// The data is not decompressed or hashed here — that would be the receiver's work done twice —
    /// but the record must be the one the catalog names: a chunk record's header (compression,
    /// lengths and id) must match the catalog's entry, and a group's table must list the chunk, so
    /// a damaged catalog never sends another chunk's bytes. Damage inside the data is found by the
    /// receiver; <see cref="ReadChunkAsync"/> then names the pack. Valid until the next read.
    /// </summary>
    public async ValueTask<(ChunkCompression Compression, ReadOnlyMemory<byte> Data)> ReadChunkForWireAsync(ChunkLocation location, ChunkCodec sendCodec, CancellationToken cancellationToken)
    {
        var entry = location.Entry;
        if (entry.Compression == ChunkCompression.ZstdGroup)
        {
            using var lease = await _store.Groups.GetAsync(location.PackName, entry.Offset, () => LoadGroupAsync(location, CancellationToken.None)).ConfigureAwait(false);
            var range = lease.Group.Table.Find(entry.Id)
                ?? throw new StoreCorruptException($"pack {location.PackName}: the group at offset {entry.Offset} does not list chunk {entry.Id} (damaged pack or catalog)");
            var member = lease.Group.Raw.AsMemory(range);
            if (member.Length != entry.RawLength)
            {
                throw new StoreCorruptException($"pack {location.PackName}: chunk {entry.Id} is {member.Length} bytes in the group at offset {entry.Offset}, the catalog says {entry.RawLength}");
            }

            // Compressed while the lease keeps the group's buffer from going back to the pool.
            return sendCodec.Compress(member);
        }

        // The record with its header, in one read: the header must say what the catalog says.
        var record = await ReadStoredAsync(location, PackFormat.RecordHeaderLength, cancellationToken).ConfigureAwait(false);
        PackEntry header;
        try
        {
            header = PackFormat.ReadRecordHeader(record.Span, entry.Offset);
        }
        catch (StoreFormatException e)
        {
            throw new StoreCorruptException($"pack {location.PackName}: chunk {entry.Id} at offset {entry.Offset}: {e.Message} (damaged pack or catalog)", e);
        }

        if (header.Id != entry.Id || header.Compression != entry.Compression || header.StoredLength != entry.StoredLength || header.RawLength != entry.RawLength)
        {
            throw new StoreCorruptException($"pack {location.PackName}: the record at offset {entry.Offset} is not chunk {entry.Id} as the catalog says (damaged pack or catalog)");
        }

        return (entry.Compression, record[PackFormat.RecordHeaderLength..]);
    }

    /// <summary>A record's stored bytes (after its header; a group's whole record), read into the reader's buffer.</summary>
    private ValueTask<ReadOnlyMemory<byte>> ReadStoredAsync(ChunkLocation location, CancellationToken cancellationToken) =>
        ReadStoredAsync(location, 0, cancellationToken);

    /// <summary>
    /// A record's stored bytes and the <paramref name="before"/> bytes in front of them (0, or a
    /// chunk record's header), read into the reader's buffer.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>> ReadStoredAsync(ChunkLocation location, int before, CancellationToken cancellationToken)
    {
        var entry = location.Entry;
        if (entry.StoredLength < 0 || entry.StoredLength > PackFormat.MaxRecordLength)
        {
            throw new StoreCorruptException($"pack {location.PackName}: the catalog gives chunk {entry.Id} {entry.StoredLength} stored bytes, beyond any record (damaged catalog)");
        }

        var length = before + entry.StoredLength;
        if (_stored.Length < length)
        {
            _stored = new byte[Math.Max(length, 256 * 1024)];
        }

        var stored = _stored.AsMemory(0, length);
        var pack = await OpenPackAsync(location.PackName, cancellationToken).ConfigureAwait(false);
        var read = await pack.ReadAsync(stored, entry.DataOffset - before, cancellationToken).ConfigureAwait(false);
        if (read != stored.Length)
        {
            throw new StoreCorruptException($"pack {location.PackName} is truncated: chunk {entry.Id} at offset {entry.Offset} is cut short");
        }

        return stored;
    }

    private async Task<DecodedGroup> LoadGroupAsync(ChunkLocation location, CancellationToken cancellationToken)
    {
        var entry = location.Entry;
        var stored = await ReadStoredAsync(location, cancellationToken).ConfigureAwait(false);
        try
        {
            var record = stored.Span;
            var table = PackFormat.ReadGroup(record, entry.Offset);
            var raw = GroupCache.RentBuffer(table.RawLength);
            try
            {
                _codec.Decompress(ChunkCompression.Zstd, record[table.FrameOffset..], raw.AsSpan(0, table.RawLength));
            }
            catch
            {
                GroupCache.ReturnBuffer(raw);
                throw;
            }

            return new DecodedGroup(table, raw);
        }
        catch (Exception e) when (e is StoreFormatException or CradleProtocolException)
        {
            throw new StoreCorruptException($"pack {location.PackName}: chunk {entry.Id} is in the group at offset {entry.Offset}, which is damaged ({e.Message})", e);
        }
    }

    private async ValueTask<IPackHandle> OpenPackAsync(string name, CancellationToken cancellationToken)
    {
        if (!_packs.TryGetValue(name, out var handle))
        {
            if (_packs.Count >= MaxOpenPacks)
            {
                ClosePacks();
            }

            handle = await _store.Packs.OpenReadAsync(name, cancellationToken).ConfigureAwait(false);
            _packs[name] = handle;
        }

        return handle;
    }

    private void ClosePacks()
    {
        foreach (var handle in _packs.Values)
        {
            handle.Dispose();
        }

        _packs.Clear();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _store.Groups.RemoveReader();
        ClosePacks();
        _codec.Dispose();
        _catalog.Dispose();
    }
}

/// <summary>The store lacks or has damaged data it should hold. Never transient.</summary>
public sealed class StoreCorruptException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner)
{
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    /// <summary>True when SQLite found the catalog file (<c>cradle.db</c>) damaged or not a database at all.</summary>
    public static bool IsDamagedCatalog(Exception e) =>
        e is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: SqliteCorrupt or SqliteNotADatabase };
}
