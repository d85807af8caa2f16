using System.Buffers.Binary;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Appends chunk records to one new pack file (in its staging place, <see cref="IPackStorage.StagingPathFor"/>),
/// then seals it: footer, flush to disk (fsync) of the file and of its folder, then
/// <see cref="IPackStorage.PutAsync"/> (nothing more for a folder, the upload for S3). Only a
/// sealed pack may be named by the catalog.
/// </summary>
public sealed class PackWriter : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly string _folder;
    private readonly IPackStorage _storage;
    private readonly List<PackEntry> _entries = [];
    private readonly byte[] _recordHeader = new byte[PackFormat.RecordHeaderLength];
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

    public long Length => _position;

    public int Count => _entries.Count;

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
            Directory.CreateDirectory(folder);
            // The new folder's own name must survive a crash too, or the pack in it is lost.
            Durability.FlushFolder(Path.GetDirectoryName(folder)!);
        }

        // Unbuffered: each record goes to the file in one gathered write (header and data), so an
        // open pack holds no buffer. A host keeps one pack open per session backing up, and a
        // 1 MiB FileStream buffer each was, with the sessions' 1 MiB chunk buffers, most of the
        // large-object heap of a host serving 100 sessions (docs/BENCHMARKS.md, "Fleet").
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        });
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

    /// <summary>Writes the footer and makes the pack durable where it is stored. After this the catalog may name it.</summary>
    public async ValueTask SealAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_sealed, this);
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
