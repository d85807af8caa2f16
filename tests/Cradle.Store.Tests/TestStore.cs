using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>A clock the test sets by hand: snapshot times, and so retention, without waiting.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// A real store in a folder, its packs in the folder or in an S3 bucket (a <c>--packs</c>
/// address, null for the folder), filled the way a device and the host fill it together: each file
/// chunked, compressed and stored by a <see cref="StoreWriter"/>, then committed as a snapshot.
/// Remembers every snapshot's files so a restore can be compared byte for byte.
/// </summary>
internal sealed class TestStore : IDisposable
{
    private readonly ChunkCodec _codec = new();
    private readonly string _scratch;

    private TestStore(ChunkStore store, CatalogDatabase database, ManualClock clock, string scratch, string? packs)
    {
        Store = store;
        Database = database;
        Clock = clock;
        PacksAddress = packs;
        _scratch = scratch;
    }

    public static async Task<TestStore> OpenAsync(string folder, string scratch, ManualClock? clock = null, string? packs = null, CatalogKind catalog = CatalogKind.Sqlite)
    {
        clock ??= new ManualClock(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var database = TestCatalogs.Create(catalog, folder);
        try
        {
            var store = await ChunkStore.OpenAsync(folder, clock, PackStorage.Open(packs, folder), database);
            return new TestStore(store, database, clock, scratch, packs);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>The <c>--packs</c> address, null for the folder.</summary>
    public string? PacksAddress { get; }

    /// <summary>The store's catalog database (SQLite in the folder, or a fresh PostgreSQL database).</summary>
    public CatalogDatabase Database { get; }

    public ChunkStore Store { get; }

    public ManualClock Clock { get; }

    /// <summary>Each committed snapshot's files: snapshot path → content.</summary>
    public Dictionary<long, IReadOnlyDictionary<string, byte[]>> Contents { get; } = [];

    public static NewSnapshotRequest Request(string device) => new(DeviceName.Parse(device), 0x0C0FFEE0, "test", 1_700_000_000_000);

    /// <summary>
    /// Backs up <paramref name="files"/> (snapshot path → content; their folders are added as
    /// folder entries) as one snapshot of <paramref name="device"/>, committed at
    /// <paramref name="at"/> (default: a minute after the clock's time). With
    /// <paramref name="interruptedFirst"/>, a first session receives the file data and is
    /// aborted, as a dropped link aborts it, so the data sits in a pack of its own and the retry
    /// that commits writes only the file list into its pack.
    /// </summary>
    public Task<long> BackupAsync(string device, IReadOnlyDictionary<string, byte[]> files, DateTimeOffset? at = null, bool interruptedFirst = false) =>
        BackupAsync(device, files, problems: null, at, interruptedFirst);

    /// <summary>
    /// A backup as above; with <paramref name="problems"/>, committed as the host commits a
    /// partial one (the entries of <paramref name="files"/> stand for what it carried forward).
    /// </summary>
    public async Task<long> BackupAsync(string device, IReadOnlyDictionary<string, byte[]> files, IReadOnlyList<SnapshotProblem>? problems, DateTimeOffset? at = null, bool interruptedFirst = false) =>
        (await CommitAsync(device, files, problems, unchangedFrom: null, at, interruptedFirst)).SnapshotId;

    /// <summary>A backup that the host compares with <paramref name="unchangedFrom"/>: the same files and problems verify it instead of making a snapshot.</summary>
    public async Task<CommitOutcome> CommitAsync(string device, IReadOnlyDictionary<string, byte[]> files, IReadOnlyList<SnapshotProblem>? problems, UnchangedCandidate? unchangedFrom, DateTimeOffset? at = null, bool interruptedFirst = false)
    {
        Clock.Now = at ?? Clock.Now.AddMinutes(1);
        if (interruptedFirst)
        {
            await using var first = await Store.BeginWriteAsync(CancellationToken.None);
            foreach (var content in files.Values)
            {
                await AddContentAsync(first, content);
            }

            await first.AbortAsync(CancellationToken.None);
        }

        var entries = new List<TreeEntry>();
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var mtime = TreeEntry.ToUnixNs(new DateTime(2024, 6, 1, 8, 0, 0, DateTimeKind.Utc));
        await using var writer = await Store.BeginWriteAsync(CancellationToken.None);
        foreach (var (path, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var slash = -1;
            while ((slash = path.IndexOf('/', slash + 1)) > 0)
            {
                var folder = path[..slash];
                if (folders.Add(folder))
                {
                    entries.Add(new TreeEntry(folder, EntryKind.Directory, 0, mtime, 0, []));
                }
            }

            var ids = await AddContentAsync(writer, content);
            entries.Add(new TreeEntry(path, EntryKind.File, content.Length, mtime + (entries.Count * 1_000_000_007L), 0, [.. ids]));
        }

        CommitOutcome outcome;
        if (problems is null && unchangedFrom is null)
        {
            outcome = new CommitOutcome(await writer.CommitAsync(Request(device), entries, CancellationToken.None), Unchanged: false);
        }
        else
        {
            using var tree = new TreeBuilder(Path.Combine(_scratch, "trees"));
            foreach (var entry in entries)
            {
                tree.Add(entry);
            }

            outcome = await writer.CommitAsync(Request(device), tree, problems ?? [], unchangedFrom, CancellationToken.None);
        }

        if (!outcome.Unchanged)
        {
            Contents[outcome.SnapshotId] = new Dictionary<string, byte[]>(files, StringComparer.Ordinal);
        }

        return outcome;
    }

    private async Task<List<ChunkId>> AddContentAsync(StoreWriter writer, byte[] content)
    {
        var ids = new List<ChunkId>();
        var chunker = new Chunker(new MemoryStream(content, writable: false));
        while (await chunker.MoveNextAsync(CancellationToken.None))
        {
            var id = ChunkId.Of(chunker.Current.Span);
            ids.Add(id);
            var (compression, data) = _codec.Compress(chunker.Current);
            await writer.AddAsync(id, compression, data, chunker.Current, CancellationToken.None);
        }

        return ids;
    }

    /// <summary>The chunk ids a file of this content is cut into.</summary>
    public static async Task<List<ChunkId>> ChunkIdsAsync(byte[] content)
    {
        var ids = new List<ChunkId>();
        var chunker = new Chunker(new MemoryStream(content, writable: false));
        while (await chunker.MoveNextAsync(CancellationToken.None))
        {
            ids.Add(ChunkId.Of(chunker.Current.Span));
        }

        return ids;
    }

    /// <summary>Where the catalog keeps a chunk (it must have it).</summary>
    public ChunkLocation Locate(ChunkId id)
    {
        using var catalog = Store.OpenCatalog();
        return catalog.FindChunk(id) ?? throw new InvalidOperationException($"the catalog has no chunk {id}");
    }

    /// <summary>The packs the pack storage holds (files under packs/, or objects), as the catalog spells them.</summary>
    public async Task<SortedSet<string>> PackFilesOnDiskAsync() => new(await Store.Packs.ListAsync(CancellationToken.None), StringComparer.Ordinal);

    public Task<byte[]> PackBytesAsync(string name) => Store.Packs.BytesAsync(name);

    public async Task<long> PackLengthAsync(string name) => await Store.Packs.LengthOfAsync(name, CancellationToken.None) ?? throw new InvalidOperationException($"there is no pack {name}");

    public Task ChangePackAsync(string name, Func<byte[], byte[]> change) => Store.Packs.ChangeAsync(name, change);

    public Task FlipBitAsync(string name, long offset) => Store.Packs.FlipBitAsync(name, offset);

    public Task TruncatePackAsync(string name, long length) => Store.Packs.ChangeAsync(name, bytes => bytes[..(int)length]);

    public Task DeletePackAsync(string name) => Store.Packs.DeleteAsync(name, CancellationToken.None);

    public SortedSet<string> PacksInCatalog()
    {
        using var catalog = Store.OpenCatalog();
        return new(catalog.ListPacks().Select(p => p.Name), StringComparer.Ordinal);
    }

    public List<long> SnapshotIds()
    {
        using var catalog = Store.OpenCatalog();
        return catalog.ListSnapshots().Select(s => s.Id).ToList();
    }

    public SnapshotInfo Snapshot(long id)
    {
        using var catalog = Store.OpenCatalog();
        return catalog.GetSnapshot(id) ?? throw new InvalidOperationException($"there is no snapshot {id}");
    }

    /// <summary>Restores the snapshot with <see cref="FolderRestorer"/> and asserts that every file comes back byte for byte, nothing more.</summary>
    public async Task AssertRestoresAsync(long id)
    {
        var expected = Contents[id];
        var target = Path.Combine(_scratch, $"restore-{id}-{Guid.NewGuid():N}");
        using (var reader = Store.OpenReader())
        {
            var snapshot = reader.Catalog.GetSnapshot(id);
            Assert.True(snapshot is not null, $"snapshot {id} is gone");
            var result = await new FolderRestorer(reader).RestoreAsync(snapshot, target, null, CancellationToken.None);
            Assert.Equal(expected.Count, result.Files);
        }

        var restored = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(target, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), restored);
        foreach (var (path, content) in expected)
        {
            Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(target, path))), $"snapshot {id}: {path} differs");
        }

        Directory.Delete(target, recursive: true);
    }

    /// <summary>
    /// Copies the whole store folder (no connection may be open) and opens the copy; packs kept
    /// in a bucket are copied into <paramref name="packs"/> (a new bucket).
    /// </summary>
    public async Task<TestStore> CopyToAsync(string folder, string scratch, string? packs)
    {
        TempFolder.CopyTree(Store.Folder, folder);
        var copy = await OpenAsync(folder, scratch, new ManualClock(Clock.Now), packs);
        if (packs is not null)
        {
            foreach (var name in await Store.Packs.ListAsync(CancellationToken.None))
            {
                var staging = Path.Combine(scratch, $"copy-{Guid.NewGuid():N}.pack");
                await File.WriteAllBytesAsync(staging, await PackBytesAsync(name));
                await copy.Store.Packs.PutAsync(name, staging, CancellationToken.None);
            }
        }

        foreach (var (id, files) in Contents)
        {
            copy.Contents[id] = files;
        }

        return copy;
    }

    public void Dispose()
    {
        _codec.Dispose();
        Database.Dispose();
    }
}

/// <summary>Reading and damaging stored packs in tests, the same way for every pack storage.</summary>
internal static class PackStorageTesting
{
    /// <summary>A pack's bytes as stored.</summary>
    public static async Task<byte[]> BytesAsync(this IPackStorage packs, string name)
    {
        using var handle = await packs.OpenReadAsync(name, CancellationToken.None);
        var bytes = new byte[handle.Length];
        Assert.Equal(bytes.Length, await handle.ReadAsync(bytes, 0, CancellationToken.None));
        return bytes;
    }

    /// <summary>Replaces a pack's stored bytes, as a damaged disk or a broken object store would.</summary>
    public static async Task ChangeAsync(this IPackStorage packs, string name, Func<byte[], byte[]> change)
    {
        var bytes = change(await packs.BytesAsync(name));
        var staging = packs.StagingPathFor(name);
        Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
        await File.WriteAllBytesAsync(staging, bytes);
        await packs.PutAsync(name, staging, CancellationToken.None);
    }

    public static Task FlipBitAsync(this IPackStorage packs, string name, long offset, byte mask = 0x10) =>
        packs.ChangeAsync(name, bytes =>
        {
            bytes[offset] ^= mask;
            return bytes;
        });
}
