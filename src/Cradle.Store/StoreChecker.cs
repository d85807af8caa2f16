using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// <c>cradle host check</c>: proves that every committed snapshot can be restored. It finds
/// packs that are missing or truncated, catalog rows that point nowhere, snapshots that name
/// chunks the catalog lacks, and (with <c>readData</c>) chunks whose bytes no longer match
/// their hash — and names the device, snapshot and file paths each problem affects.
/// </summary>
internal sealed class StoreChecker(ChunkStore store)
{
    /// <summary>Most file paths listed per affected snapshot (the count is always exact).</summary>
    public const int MaxPathsShown = 50;

    public async Task<CheckReport> CheckAsync(bool readData, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        using var reader = store.OpenReader();
        var catalog = reader.Catalog;
        var problems = new List<CheckProblem>();
        var notes = new List<string>();
        var bad = new Dictionary<ChunkId, int>();
        var packs = catalog.ListPacks();
        var packsById = packs.ToDictionary(p => p.Id);
        var sizeOnDisk = new Dictionary<long, long>();
        progress?.Report($"checking {packs.Count} packs");
        foreach (var pack in packs)
        {
            if (await store.Packs.LengthOfAsync(pack.Name, cancellationToken).ConfigureAwait(false) is not { } length)
            {
                problems.Add(new CheckProblem("missing-pack", $"pack {pack.Name} is missing from {store.Packs.Location}", pack.Name, null));
                sizeOnDisk[pack.Id] = -1;
                continue;
            }

            sizeOnDisk[pack.Id] = length;
            if (length < pack.Size)
            {
                problems.Add(new CheckProblem("truncated-pack", $"pack {pack.Name} is {length} bytes, the catalog recorded {pack.Size}", pack.Name, null));
            }

            if (readData && length >= PackFormat.HeaderLength)
            {
                var header = new byte[PackFormat.HeaderLength];
                using (var handle = await store.Packs.OpenReadAsync(pack.Name, cancellationToken).ConfigureAwait(false))
                {
                    await handle.ReadAsync(header, 0, cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    PackFormat.ReadHeader(header, pack.Name);
                }
                catch (StoreFormatException e)
                {
                    problems.Add(new CheckProblem("bad-pack-header", e.Message, pack.Name, null));
                }
            }
        }

        foreach (var orphan in catalog.ChunksWithoutPack())
        {
            bad[orphan] = problems.Count;
            problems.Add(new CheckProblem("dangling-chunk-row", $"the catalog places chunk {orphan} in a pack it does not know", null, orphan.ToString()));
        }

        long chunks = 0;
        long bytesRead = 0;
        (long Pack, long Offset) lastGroup = (-1, -1);
        var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
        progress?.Report(readData ? "reading every chunk" : "checking chunk rows");
        foreach (var row in catalog.ListChunks())
        {
            cancellationToken.ThrowIfCancellationRequested();
            chunks++;
            var pack = packsById.GetValueOrDefault(row.Pack);
            if (pack is null)
            {
                continue;
            }

            var onDisk = sizeOnDisk[row.Pack];
            if (onDisk < 0)
            {
                bad.TryAdd(row.Entry.Id, Problem(problems, "missing-pack", pack.Name, null));
                continue;
            }

            if (row.Entry.End > onDisk)
            {
                bad.TryAdd(row.Entry.Id, Problem(problems, "truncated-pack", pack.Name, $"pack {pack.Name} ends before chunk {row.Entry.Id} at offset {row.Entry.Offset}"));
                continue;
            }

            if (!readData)
            {
                continue;
            }

            try
            {
                await reader.ReadChunkAsync(new ChunkLocation(pack.Name, row.Entry), buffer.AsMemory(0, row.Entry.RawLength), cancellationToken).ConfigureAwait(false);
                if (row.Entry.Compression != ChunkCompression.ZstdGroup || (row.Pack, row.Entry.Offset) != lastGroup)
                {
                    // A group's members follow each other (rows in pack and offset order) and share its bytes.
                    bytesRead += row.Entry.StoredLength;
                    lastGroup = (row.Pack, row.Entry.Offset);
                }
            }
            catch (StoreCorruptException e)
            {
                bad[row.Entry.Id] = problems.Count;
                problems.Add(new CheckProblem("damaged-chunk", e.Message, pack.Name, row.Entry.Id.ToString()));
            }
        }

        var snapshots = catalog.ListSnapshots();
        progress?.Report($"checking {snapshots.Count} snapshots");
        foreach (var snapshot in snapshots)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<TreeEntry> entries;
            try
            {
                entries = await reader.LoadTreeAsync(snapshot, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreCorruptException e)
            {
                problems.Add(new CheckProblem("unreadable-tree", e.Message, null, null)
                {
                    Affected = [new AffectedSnapshot(snapshot.Id, snapshot.Device, 0, ["(the whole snapshot: its file list cannot be read)"])],
                });
                continue;
            }

            var hits = new Dictionary<int, List<string>>();
            foreach (var entry in entries)
            {
                foreach (var id in entry.Chunks)
                {
                    if (bad.TryGetValue(id, out var index) && index >= 0)
                    {
                        Add(hits, index, entry.Path);
                        break;
                    }

                    // Any row counts, a condemned one too: a snapshot committed by a session that
                    // began before prune's mark may name one until the next prune takes it back.
                    if (catalog.FindChunk(id) is null)
                    {
                        var missing = problems.Count;
                        problems.Add(new CheckProblem("missing-chunk", $"chunk {id} is named by a snapshot but not in the catalog", null, id.ToString()));
                        bad[id] = missing;
                        Add(hits, missing, entry.Path);
                        break;
                    }
                }
            }

            foreach (var (index, paths) in hits)
            {
                problems[index].Affected.Add(new AffectedSnapshot(snapshot.Id, snapshot.Device, paths.Count, paths.Take(MaxPathsShown).ToList()));
            }
        }

        var orphans = await store.UnnamedPackFilesAsync(catalog, cancellationToken).ConfigureAwait(false);
        if (orphans.Count > 0)
        {
            notes.Add($"{orphans.Count} pack files are not named by the catalog (left by an interrupted backup or prune; harmless, prune removes them)");
        }

        catalog.RecordCheck(new LastCheck(store.Time.GetUtcNow(), problems.Count == 0, problems.Count, readData));
        return new CheckReport(problems.Count == 0, packs.Count, chunks, snapshots.Count, bytesRead, readData, problems, notes);
    }

    /// <summary>The index of the pack-level problem of this kind, added when it is not there yet.</summary>
    private static int Problem(List<CheckProblem> problems, string kind, string pack, string? detail)
    {
        var index = problems.FindIndex(p => p.Kind == kind && p.Pack == pack);
        if (index < 0)
        {
            index = problems.Count;
            problems.Add(new CheckProblem(kind, detail ?? $"pack {pack}: {kind}", pack, null));
        }

        return index;
    }

    private static void Add(Dictionary<int, List<string>> hits, int index, string path)
    {
        if (!hits.TryGetValue(index, out var list))
        {
            hits[index] = list = [];
        }

        list.Add(path);
    }
}

/// <summary>What <c>cradle host check</c> found.</summary>
internal sealed record CheckReport(bool Ok, long Packs, long Chunks, long Snapshots, long BytesRead, bool ReadData, List<CheckProblem> Problems, List<string> Notes);

/// <summary>One problem and what it affects.</summary>
internal sealed record CheckProblem(string Kind, string Detail, string? Pack, string? Chunk)
{
    public List<AffectedSnapshot> Affected { get; init; } = [];
}

/// <summary>A snapshot a problem damages, with the file paths (at most <see cref="StoreChecker.MaxPathsShown"/>) that cannot be restored.</summary>
internal sealed record AffectedSnapshot(long Snapshot, string Device, int Files, List<string> Paths);
