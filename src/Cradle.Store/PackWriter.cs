using System.Buffers.Binary;
using System.Buffers;
using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Appends chunk records to one new pack file (in its staging place, <see cref="IPackStorage.StagingPathFor"/>),
/// then seals it: footer, flush to disk (fsync) of the file and of its folder, then
/// <see cref="IPackStorage.PutAsync"/> (nothing more for a folder, the upload for S3). Only a
/// sealed pack may be named by the catalog.
/// <para>
/// Compressible chunks are kept in a compression group (<see cref="AppendGroupedAsync"/>):
/// their raw bytes wait in memory until the group holds <see cref="PackFormat.GroupTargetSize"/>,
/// then go into the pack as one zstd frame. The group's buffer is rented, grows with what it
/// holds (so a session storing little holds little) and is kept until the pack is sealed.
/// </para>
/// </summary>
internal sealed class PackWriter : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly string _folder;
    private readonly IPackStorage _storage;
    private readonly List<PackEntry> _entries = [];
    private readonly byte[] _recordHeader = new byte[PackFormat.RecordHeaderLength];
    /// <summary>
    /// The groups' buffers: a pool of its own, holding at most two of each size. From the
    /// process's shared pool, each thread a session's continuations ran on kept a 4 MiB buffer
    /// (and one of each smaller size) in its own cache: +50 MiB on the host of a 500 MB backup.
    /// </summary>
    private static readonly ArrayPool<byte> GroupBuffers = ArrayPool<byte>.Create(4 * 1024 * 1024, 2);

    private readonly List<(ChunkId Id, int RawLength)> _members = [];
    private byte[] _group = [];
    private int _groupLength;
    private long _position;
    private bool _sealed;

    private PackWriter(IPackStorage storage, FileStream file, string folder, string name)
    {
        _storage = storage;
        _file = file;
        _folder = folder;
        Name = name;
    }

    /// <summary>The pack's file name relative to the packs folder, e.g. <c>3f/3f9a….pack</c>.</summary>
    public string Name { get; }

    /// <summary>Bytes written so far, and the raw bytes of the open group (not written yet).</summary>
    public long Length => _position + _groupLength;

    /// <summary>Chunks in the pack, those in the open group included.</summary>
    public int Count => _entries.Count + _members.Count;

    public IReadOnlyList<PackEntry> Entries => _entries;

    public static PackWriter Create(IPackStorage storage)
    {
        var id = Guid.NewGuid();
        var hex = id.ToString("N");
        var name = $"{hex[..2]}/{hex}.pack";
        var path = storage.StagingPathFor(name);
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
        {
            PrivateFiles.CreateFolder(folder);
            // The new folder's own name must survive a crash too, or the pack in it is lost.
            Durability.FlushFolder(Path.GetDirectoryName(folder)!);
        }

        // Unbuffered: each record goes to the file in one gathered write (header and data), so an
        // open pack holds no buffer. A host keeps one pack open per session backing up, and a
        // 1 MiB FileStream buffer each was, with the sessions' 1 MiB chunk buffers, most of the
        // large-object heap of a host serving 100 sessions (docs/BENCHMARKS.md, "Fleet").
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFiles.FileMode; // a device's data: its owner's alone
        }

        var file = new FileStream(path, options);
        var writer = new PackWriter(storage, file, folder, name);
        var header = new byte[PackFormat.HeaderLength];
        PackFormat.WriteHeader(header, id);
        RandomAccess.Write(file.SafeFileHandle, header, fileOffset: 0);
        writer._position = header.Length;
        return writer;
    }

    public async ValueTask<PackEntry> AppendAsync(ChunkId id, ChunkCompression compression, ReadOnlyMemory<byte> stored, int rawLength, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_sealed, this);
        var entry = new PackEntry(id, _position, stored.Length, rawLength, compression);
        PackFormat.WriteRecordHeader(_recordHeader, compression, stored.Length, rawLength, id);
        await RandomAccess.WriteAsync(_file.SafeFileHandle, [_recordHeader, stored], _position, cancellationToken).ConfigureAwait(false);
        _position += PackFormat.RecordHeaderLength + stored.Length;
        _entries.Add(entry);
        return entry;
    }

    /// <summary>
    /// Adds a compressible chunk to the open compression group (its raw bytes are copied); the
    /// group goes into the pack once it is full, and at the latest when the pack is sealed.
    /// </summary>
    public async ValueTask AppendGroupedAsync(ChunkId id, ReadOnlyMemory<byte> raw, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_sealed, this);
        if (raw.Length is 0 or > ChunkerOptions.AbsoluteMaxSize)
        {
            throw new ArgumentException($"a chunk is 1 to {ChunkerOptions.AbsoluteMaxSize} bytes, not {raw.Length}", nameof(raw));
        }

        if (_group.Length < _groupLength + raw.Length)
        {
            var larger = GroupBuffers.Rent(Math.Min(PackFormat.GroupMaxSize, Math.Max(_groupLength + raw.Length, _group.Length * 2)));
            _group.AsSpan(0, _groupLength).CopyTo(larger);
            ReturnGroupBuffer();
            _group = larger;
        }

        raw.Span.CopyTo(_group.AsSpan(_groupLength));
        _groupLength += raw.Length;
        _members.Add((id, raw.Length));
        // Full by size, or by count: a reader refuses a table of more than GroupMaxMembers (tiny
        // chunks flagged compressed, from a hostile device, could otherwise fill 2 MiB with more).
        if (_groupLength >= PackFormat.GroupTargetSize || _members.Count >= PackFormat.GroupMaxMembers)
        {
            await FlushGroupAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the open group: one member alone as an ordinary record, several as one group record.</summary>
    private async ValueTask FlushGroupAsync(CancellationToken cancellationToken)
    {
        if (_members.Count == 0)
        {
            return;
        }

        var codec = ChunkCodecPool.Shared.Rent();
        try
        {
            var raw = _group.AsMemory(0, _groupLength);
            if (_members.Count == 1)
            {
                var (compression, data) = codec.Compress(raw);
                await AppendAsync(_members[0].Id, compression, data, _groupLength, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Members were each compressible, so the group is too: it is always a zstd frame.
                var stored = codec.CompressAlways(raw);
                var header = new byte[PackFormat.GroupHeaderLength + (_members.Count * PackFormat.GroupMemberLength)];
                PackFormat.WriteGroupHeader(header, stored.Length, _groupLength, _members);
                await RandomAccess.WriteAsync(_file.SafeFileHandle, [header, stored], _position, cancellationToken).ConfigureAwait(false);
                var recordLength = header.Length + stored.Length;
                foreach (var (id, length) in _members)
                {
                    _entries.Add(new PackEntry(id, _position, recordLength, length, ChunkCompression.ZstdGroup));
                }

                _position += recordLength;
            }
        }
        finally
        {
            ChunkCodecPool.Shared.Return(codec);
        }

        // The buffer stays for the next group (given back when the pack is sealed): renting it
        // anew, small and doubling, per group left a copy of every size in the pool's caches.
        _members.Clear();
        _groupLength = 0;
    }

    private void ReturnGroupBuffer()
    {
        if (_group.Length > 0)
        {
            GroupBuffers.Return(_group);
            _group = [];
        }
    }

    /// <summary>Writes the open group and the footer and makes the pack durable where it is stored. After this the catalog may name it.</summary>
    public async ValueTask SealAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_sealed, this);
        await FlushGroupAsync(cancellationToken).ConfigureAwait(false);
        ReturnGroupBuffer();
        var footer = new byte[(_entries.Count * PackFormat.FooterEntryLength) + PackFormat.TailLength];
        var span = footer.AsSpan();
        foreach (var e in _entries)
        {
            e.Id.WriteTo(span);
            BinaryPrimitives.WriteInt64LittleEndian(span[32..], e.Offset);
            BinaryPrimitives.WriteInt32LittleEndian(span[40..], e.StoredLength);
            BinaryPrimitives.WriteInt32LittleEndian(span[44..], e.RawLength);
            span[48] = (byte)e.Compression;
            span = span[PackFormat.FooterEntryLength..];
        }

        BinaryPrimitives.WriteInt32LittleEndian(span, _entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[4..], _position);
        PackFormat.EndMagic.CopyTo(span[12..]);
        await RandomAccess.WriteAsync(_file.SafeFileHandle, footer, _position, cancellationToken).ConfigureAwait(false);
        RandomAccess.FlushToDisk(_file.SafeFileHandle);
        _position += footer.Length;
        _sealed = true;
        await _file.DisposeAsync().ConfigureAwait(false);
        Durability.FlushFolder(_folder);
        try
        {
            await _storage.PutAsync(Name, _file.Name, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not stored: the staging copy is of no use (the chunks' senders will send them again).
            File.Delete(_file.Name);
            throw;
        }
    }

    /// <summary>Drops an unsealed pack: closes and deletes its file.</summary>
    public async ValueTask AbandonAsync()
    {
        if (_sealed)
        {
            return;
        }

        _sealed = true;
        _members.Clear();
        _groupLength = 0;
        ReturnGroupBuffer();
        var path = _file.Name;
        try
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Flushing the buffer failed (a full disk, typically); the handle is closed all the
            // same, and the file is deleted next, so nothing of it is kept.
        }

        File.Delete(path);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_sealed)
        {
            await AbandonAsync().ConfigureAwait(false);
        }
    }
}
