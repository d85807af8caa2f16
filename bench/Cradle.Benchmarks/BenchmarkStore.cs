using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// A real store (SQLite catalog, pack folder) in a temp folder holding one snapshot of the given
/// files, written the way a backup writes it: chunked, hashed, compressed per chunk, then handed
/// to a <see cref="StoreWriter"/> (which groups the compressible chunks).
/// </summary>
internal sealed class BenchmarkStore : IDisposable
{
    private BenchmarkStore(string folder, ChunkStore store, SnapshotInfo snapshot)
    {
        Folder = folder;
        Store = store;
        Snapshot = snapshot;
    }

    public string Folder { get; }

    public ChunkStore Store { get; }

    public SnapshotInfo Snapshot { get; }

    /// <summary>Backs up <paramref name="files"/> (snapshot path → content) as one snapshot of device BENCH.</summary>
    public static async Task<BenchmarkStore> CreateAsync(IReadOnlyList<(string Path, byte[] Content)> files)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"cradle-bench-store-{Guid.NewGuid():N}");
        var store = await ChunkStore.OpenAsync(folder).ConfigureAwait(false);
        using var codec = new ChunkCodec();
        var entries = new List<TreeEntry>();
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var mtime = TreeEntry.ToUnixNs(new DateTime(2025, 6, 1, 8, 0, 0, DateTimeKind.Utc));
        var writer = await store.BeginWriteAsync(CancellationToken.None).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            foreach (var (path, content) in files)
            {
                for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
                {
                    if (folders.Add(path[..slash]))
                    {
                        entries.Add(new TreeEntry(path[..slash], EntryKind.Directory, 0, mtime, 0, []));
                    }
                }

                var ids = new List<ChunkId>();
                var chunker = new Chunker(new MemoryStream(content, writable: false));
                while (await chunker.MoveNextAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    var id = ChunkId.Of(chunker.Current.Span);
                    ids.Add(id);
                    var (compression, data) = codec.Compress(chunker.Current);
                    await writer.AddAsync(id, compression, data, chunker.Current, CancellationToken.None).ConfigureAwait(false);
                }

                entries.Add(new TreeEntry(path, EntryKind.File, content.Length, mtime, 0, [.. ids]));
            }

            var snapshotId = await writer.CommitAsync(new NewSnapshotRequest(DeviceName.Parse("BENCH"), 1, "bench", 0), entries, CancellationToken.None).ConfigureAwait(false);
            using var catalog = store.OpenCatalog();
            return new BenchmarkStore(folder, store, catalog.GetSnapshot(snapshotId)!);
        }
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
