using System.Text;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>StoreWriter, SnapshotReader and FolderRestorer together, on real files in a temp folder.</summary>
public sealed class StoreRoundTripOnFolderAndSqliteTests() : StoreRoundTripTests(PackPlace.Folder, CatalogKind.Sqlite);

public sealed class StoreRoundTripOnS3Tests() : StoreRoundTripTests(PackPlace.S3, CatalogKind.Sqlite);

public sealed class StoreRoundTripOnPostgresTests() : StoreRoundTripTests(PackPlace.Folder, CatalogKind.Postgres);

public sealed class StoreRoundTripOnS3AndPostgresTests() : StoreRoundTripTests(PackPlace.S3, CatalogKind.Postgres);

public abstract class StoreRoundTripTests : IAsyncLifetime
{
    private static readonly NewSnapshotRequest Request = new(DeviceName.Parse("MX7-0042"), 0x12345678, "test", 1_700_000_000_000);

    private readonly TempFolder _temp = new();
    private readonly PackPlace _place;
    private readonly CatalogDatabase _database;
    private ChunkStore _store = null!;
    private readonly ChunkCodec _codec = new();

    protected StoreRoundTripTests(PackPlace place, CatalogKind catalog)
    {
        _place = place;
        _database = TestCatalogs.Create(catalog, _temp["store"]);
    }

    public async Task InitializeAsync() =>
        _store = await ChunkStore.OpenAsync(_temp["store"], packs: PackStorage.Open(PackPlaces.New(_place, "roundtrip"), _temp["store"]), database: _database);

    public Task DisposeAsync()
    {
        _codec.Dispose();
        _database.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void Each_open_reader_makes_room_for_one_more_group_until_it_is_disposed()
    {
        var readers = Enumerable.Range(0, 6).Select(_ => _store.OpenReader()).ToList();
        Assert.Equal(6, _store.Groups.Capacity);
        readers[0].Dispose();
        readers[0].Dispose(); // twice: counted once
        Assert.Equal(5, _store.Groups.Capacity);
        foreach (var reader in readers.Skip(1))
        {
            reader.Dispose();
        }

        Assert.Equal(GroupCache.MinCapacity, _store.Groups.Capacity);
    }

    private string Source => _temp["source"];

    private string Target => _temp["restored"];

    [Fact]
    public async Task A_folder_restores_byte_for_byte_with_modification_times()
    {
        var times = 0;
        DateTime NextTime() => new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1_234_567 + (++times * 10_000_019L));

        WriteFile("empty.txt", [], NextTime());
        WriteFile("random.bin", TestData.Bytes(41, 3_000_000), NextTime());
        WriteFile("Données/été 😀 日本.txt", Encoding.UTF8.GetBytes("unicode name"), NextTime());
        WriteFile("a/b/c/d/e/f/deep.txt", TestData.Text(100_000), NextTime());
        Directory.CreateDirectory(Path.Combine(Source, "empty-folder"));
        foreach (var folder in Directory.GetDirectories(Source, "*", SearchOption.AllDirectories).OrderByDescending(f => f.Length).Append(Source))
        {
            Directory.SetLastWriteTimeUtc(folder, NextTime());
        }

        var snapshotId = await BackupAsync("data");
        var result = await RestoreAsync(snapshotId);

        Assert.Equal(4, result.Files);
        Assert.Equal(3_000_000 + 12 + 100_000, result.Bytes);
        AssertSameTree(Source, Path.Combine(Target, "data"));
    }

    [Fact]
    public async Task A_restore_of_many_files_makes_each_workers_reader_once_so_memory_does_not_grow_with_the_file_count()
    {
        // Each reader holds a catalog connection, pack handles, a zstd context and buffers. A
        // reader per task replica (Parallel.ForEach's localInit) grew the host's memory with the
        // number of files (171 MiB restoring 100,000 files); a slow progress sink makes replicas
        // come and go, as a slow disk does.
        for (var i = 0; i < 600; i++)
        {
            WriteFile($"logs/{i / 100}/scan-{i}.txt", Encoding.UTF8.GetBytes($"scan {i}"), DateTime.UtcNow);
        }

        var snapshotId = await BackupAsync("data");
        using var reader = _store.OpenReader();
        var snapshot = reader.Catalog.GetSnapshot(snapshotId)!;
        var result = await new FolderRestorer(reader).RestoreAsync(snapshot, Target, new SlowProgress(), CancellationToken.None);

        Assert.Equal(600, result.Files);
        Assert.InRange(result.Readers, 1, Math.Clamp(Environment.ProcessorCount, 1, 4));
        AssertSameTree(Source, Path.Combine(Target, "data"));
    }

    private sealed class SlowProgress : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => Thread.Sleep(2);
    }

    [Fact]
    public async Task Hard_links_are_made_again_when_both_names_are_restored_with_the_same_chunks_and_written_as_files_otherwise()
    {
        var when = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        WriteFile("first.db", TestData.Bytes(7, 300_000), when);
        WriteFile("logs/second-name.db", TestData.Bytes(7, 300_000), when);
        WriteFile("other.bin", TestData.Bytes(8, 1_000), when);
        WriteFile("dangling.db", TestData.Bytes(7, 300_000), when);

        var snapshotId = await BackupAsync("data", entries =>
        {
            static int At(List<TreeEntry> list, string path) => list.FindIndex(e => e.Path == path);
            entries[At(entries, "data/logs/second-name.db")] = entries[At(entries, "data/logs/second-name.db")] with { LinkTo = "data/first.db" };
            // Marked a link to a file with other chunks (a lying or racing device): its own content wins.
            entries[At(entries, "data/other.bin")] = entries[At(entries, "data/other.bin")] with { LinkTo = "data/first.db" };
            // Its other name is not in the snapshot: written as a file.
            entries[At(entries, "data/dangling.db")] = entries[At(entries, "data/dangling.db")] with { LinkTo = "data/gone.db" };
        });
        var result = await RestoreAsync(snapshotId);

        var restored = Path.Combine(Target, "data");
        Assert.Equal(4, result.Files);
        Assert.Equal(1, result.Linked);
        Assert.True(FileIdentity.SameFile(Path.Combine(restored, "first.db"), Path.Combine(restored, "logs", "second-name.db")), "the two names of one file were restored as two files");
        Assert.False(FileIdentity.SameFile(Path.Combine(restored, "first.db"), Path.Combine(restored, "other.bin")));
        Assert.False(FileIdentity.SameFile(Path.Combine(restored, "first.db"), Path.Combine(restored, "dangling.db")));
        AssertSameTree(Source, restored);
        Assert.Equal(when, File.GetLastWriteTimeUtc(Path.Combine(restored, "logs", "second-name.db")));

        // Run again over its own result (as after a cut): the link is recognised, nothing rewritten.
        using var reader = _store.OpenReader();
        var again = await new FolderRestorer(reader).RestoreAsync(reader.Catalog.GetSnapshot(snapshotId)!, Target, new FolderRestoreOptions(Overwrite: true), null, CancellationToken.None);
        Assert.Equal(4, again.Whole);
        Assert.Equal(0, again.Files);
    }

    [Fact]
    public async Task The_snapshot_records_who_when_and_how_much()
    {
        WriteFile("one.txt", TestData.Text(1000), DateTime.UtcNow);
        WriteFile("two/three.txt", TestData.Text(3000), DateTime.UtcNow);

        var id = await BackupAsync("docs");

        using var reader = _store.OpenReader();
        var info = reader.Catalog.GetSnapshot(id)!;
        Assert.Equal("MX7-0042", info.Device);
        Assert.Equal(0x12345678u, info.Number);
        Assert.Equal("test", info.Link);
        Assert.Equal(Request.StartedMs, info.Started.ToUnixTimeMilliseconds());
        Assert.Equal(2, info.Files);
        Assert.Equal(4000, info.Bytes);
        var tree = await reader.LoadTreeAsync(info, CancellationToken.None);
        Assert.Equal(new[] { "docs", "docs/one.txt", "docs/two", "docs/two/three.txt" }, tree.Select(e => e.Path));
    }

    [Fact]
    public async Task The_same_chunk_written_twice_is_stored_once()
    {
        var data = TestData.Bytes(42, 50_000);
        var id = ChunkId.Of(data);

        await using (var writer = await _store.BeginWriteAsync(CancellationToken.None))
        {
            Assert.True(await writer.AddAsync(id, ChunkCompression.None, data, data, CancellationToken.None));
            Assert.False(await writer.AddAsync(id, ChunkCompression.None, data, data, CancellationToken.None));
            Assert.True(writer.Has(id));
            Assert.Equal(1, writer.NewChunks);
            await writer.CommitAsync(Request, [new TreeEntry("f", EntryKind.File, data.Length, 0, 0, [id, id])], CancellationToken.None);

            // One pack: the chunk once, the tree, header and footer.
            Assert.InRange(writer.StoredBytes, PackFormat.HeaderLength + PackFormat.RecordHeaderLength + data.Length, PackFormat.HeaderLength + (2 * PackFormat.RecordHeaderLength) + data.Length + 1024);
        }

        // A later session does not store it again either.
        await using (var writer = await _store.BeginWriteAsync(CancellationToken.None))
        {
            Assert.False(await writer.AddAsync(id, ChunkCompression.None, data, data, CancellationToken.None));
            Assert.Equal(0, writer.NewChunks);
            await writer.AbortAsync(CancellationToken.None);
        }

        using var catalog = _store.OpenCatalog();
        var totals = catalog.Totals();
        Assert.Equal(data.Length, totals.RawBytes - TreeBytes(catalog));
        Assert.Equal(1, totals.Packs);
    }

    [Fact]
    public async Task Abort_keeps_the_chunks_already_received_but_makes_no_snapshot()
    {
        var first = TestData.Bytes(43, 40_000);
        var second = TestData.Text(40_000);
        var (secondCompression, secondStored) = _codec.Compress(second);

        await using (var writer = await _store.BeginWriteAsync(CancellationToken.None))
        {
            await writer.AddAsync(ChunkId.Of(first), ChunkCompression.None, first, first, CancellationToken.None);
            await writer.AddAsync(ChunkId.Of(second), secondCompression, secondStored, second, CancellationToken.None);
            await writer.AbortAsync(CancellationToken.None);
        }

        await using (var next = await _store.BeginWriteAsync(CancellationToken.None))
        {
            Assert.True(next.Has(ChunkId.Of(first)));
            Assert.True(next.Has(ChunkId.Of(second)));
            Assert.True(next.TryGetRawLength(ChunkId.Of(second), out var raw));
            Assert.Equal(second.Length, raw);
        }

        using var reader = _store.OpenReader();
        Assert.Empty(reader.Catalog.ListSnapshots());
        var restored = new byte[second.Length];
        await reader.ReadChunkAsync(reader.Locate(ChunkId.Of(second)), restored, CancellationToken.None);
        Assert.Equal(second, restored);
    }

    [Fact]
    public async Task A_writer_disposed_without_commit_or_abort_leaves_nothing()
    {
        var data = TestData.Bytes(44, 10_000);
        await using (var writer = await _store.BeginWriteAsync(CancellationToken.None))
        {
            await writer.AddAsync(ChunkId.Of(data), ChunkCompression.None, data, data, CancellationToken.None);
        }

        await using var next = await _store.BeginWriteAsync(CancellationToken.None);
        Assert.False(next.Has(ChunkId.Of(data)));
        Assert.Empty(await _store.Packs.ListAsync(CancellationToken.None));
        Assert.Empty(Directory.GetFiles(_store.Folder, "*.pack", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_committed_writer_takes_no_more_chunks()
    {
        var writer = await _store.BeginWriteAsync(CancellationToken.None);
        await writer.CommitAsync(Request, [], CancellationToken.None);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.AddAsync(ChunkId.Of("x"u8), ChunkCompression.None, "x"u8.ToArray(), "x"u8.ToArray(), CancellationToken.None));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.CommitAsync(Request, [], CancellationToken.None));
        await writer.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_flipped_byte_in_a_pack_makes_restore_throw_StoreCorruptException(bool compressible)
    {
        var content = compressible ? TestData.Text(200_000) : TestData.Bytes(45, 200_000);
        WriteFile("victim.bin", content, DateTime.UtcNow);
        var id = await BackupAsync("data");

        var firstChunk = ChunkId.Of(content.AsSpan(0, (await ChunkerTests.ChunkAsync(content))[0].Length));
        ChunkLocation location;
        using (var catalog = _store.OpenCatalog())
        {
            location = catalog.FindChunk(firstChunk)!;
        }

        Assert.Equal(compressible ? ChunkCompression.Zstd : ChunkCompression.None, location.Entry.Compression);
        await _store.Packs.FlipBitAsync(location.PackName, location.Entry.DataOffset + (location.Entry.StoredLength / 2), 0x01);

        var e = await Assert.ThrowsAsync<StoreCorruptException>(() => RestoreAsync(id));
        Assert.Contains(location.PackName, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Target, "data", "victim.bin")), "a damaged file must not appear under its name");
    }

    [Fact]
    public async Task Small_compressible_files_share_compression_groups_that_are_smaller_than_their_chunks_alone_and_restore()
    {
        long alone = 0;
        var chunks = 0;
        for (var i = 0; i < 120; i++)
        {
            var content = TestData.Log(i, 2_000 + (i * 53));
            WriteFile($"Logs/{i:D3}.log", content, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(i));
            foreach (var chunk in await ChunkerTests.ChunkAsync(content))
            {
                alone += PackFormat.RecordHeaderLength + _codec.Compress(chunk).Data.Length;
                chunks++;
            }
        }

        var id = await BackupAsync("data");

        // Every file chunk is a member of a group; the packs hold less than the chunks compressed one by one.
        long packBytes = 0;
        foreach (var pack in await _store.Packs.ListAsync(CancellationToken.None))
        {
            packBytes += await _store.Packs.LengthOfAsync(pack, CancellationToken.None) ?? 0;
        }

        using (var catalog = _store.OpenCatalog())
        {
            var rows = catalog.ListChunks().ToList();
            Assert.True(rows.Count(r => r.Entry.Compression == ChunkCompression.ZstdGroup) >= chunks, $"{chunks} file chunks, grouped rows: {rows.Count(r => r.Entry.Compression == ChunkCompression.ZstdGroup)}");
            var totals = catalog.Totals();
            Assert.InRange(totals.StoredBytes, 1, packBytes);
        }

        Assert.True(packBytes < alone * 0.8, $"packs {packBytes} bytes, the chunks compressed alone {alone}");

        await RestoreAsync(id);
        AssertSameTree(Source, Path.Combine(Target, "data"));
    }

    [Fact]
    public async Task A_flipped_bit_in_a_compression_group_is_reported_for_every_file_in_it()
    {
        for (var i = 0; i < 8; i++)
        {
            WriteFile($"Logs/{i}.log", TestData.Log(100 + i, 5_000), DateTime.UtcNow);
        }

        var id = await BackupAsync("data");
        ChunkLocation location;
        using (var catalog = _store.OpenCatalog())
        {
            location = catalog.FindChunk(ChunkId.Of(TestData.Log(100, 5_000)))!;
        }

        Assert.Equal(ChunkCompression.ZstdGroup, location.Entry.Compression);
        await _store.Packs.FlipBitAsync(location.PackName, location.Entry.Offset + location.Entry.StoredLength - 100, 0x01);

        var e = await Assert.ThrowsAsync<StoreCorruptException>(() => RestoreAsync(id));
        Assert.Contains(location.PackName, e.Message, StringComparison.Ordinal);

        var report = await new StoreChecker(_store).CheckAsync(readData: true, null, CancellationToken.None);
        Assert.False(report.Ok);
        var damaged = report.Problems.Where(p => p.Kind == "damaged-chunk").ToList();
        Assert.True(damaged.Count >= 8, string.Join("\n", report.Problems.Select(p => $"{p.Kind}: {p.Detail}")));
        var paths = damaged.SelectMany(p => p.Affected).SelectMany(a => a.Paths).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < 8; i++)
        {
            Assert.Contains($"data/Logs/{i}.log", paths);
        }
    }

    [Fact]
    public async Task A_failed_restore_leaves_no_temporary_file_only_the_marker_of_an_unfinished_restore()
    {
        var content = TestData.Bytes(46, 600_000);
        WriteFile("victim.bin", content, DateTime.UtcNow);
        var id = await BackupAsync("data");
        var lastChunk = (await ChunkerTests.ChunkAsync(content))[^1];
        ChunkLocation location;
        using (var catalog = _store.OpenCatalog())
        {
            location = catalog.FindChunk(ChunkId.Of(lastChunk))!;
        }

        await _store.Packs.FlipBitAsync(location.PackName, location.Entry.DataOffset, 0x01);

        await Assert.ThrowsAsync<StoreCorruptException>(() => RestoreAsync(id));

        // No temporary file and no file under its real name holding part of the data; only the
        // marker that lets a rerun finish this restore (RestoreTarget) stays.
        var left = Directory.GetFiles(Target, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Equal([RestoreTarget.MarkerName], left);
    }

    [Fact]
    public async Task A_missing_pack_makes_restore_throw_StoreCorruptException()
    {
        WriteFile("file.txt", TestData.Text(1000), DateTime.UtcNow);
        var id = await BackupAsync("data");
        foreach (var pack in await _store.Packs.ListAsync(CancellationToken.None))
        {
            await _store.Packs.DeleteAsync(pack, CancellationToken.None);
        }

        var e = await Assert.ThrowsAsync<StoreCorruptException>(() => RestoreAsync(id));
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_with_a_255_character_name_restores()
    {
        var name = new string('n', 250) + ".txt";
        WriteFile(name, "long name"u8.ToArray(), DateTime.UtcNow);
        var id = await BackupAsync("data");

        await RestoreAsync(id);

        Assert.Equal("long name"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(Target, "data", name)));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../outside.txt")]
    [InlineData("a/../../outside.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\..\\..\\outside.txt")]
    [InlineData("a//b")]
    [InlineData("")]
    public void Resolve_refuses_paths_leading_outside_the_target(string path)
    {
        Assert.Throws<CradleProtocolException>(() => FolderRestorer.Resolve(Target, path));
    }

    [Fact]
    public void Resolve_maps_a_safe_path_under_the_target()
    {
        var root = Path.GetFullPath(Target);
        Assert.Equal(Path.Combine(root, "a", "b.txt"), FolderRestorer.Resolve(root, "a/b.txt"));
        Assert.Equal(Path.Combine(root, "a", "b.txt"), FolderRestorer.Resolve(root + Path.DirectorySeparatorChar, "a/b.txt"));
        Assert.Equal(Path.Combine(root, "..a..", "b"), FolderRestorer.Resolve(root, "..a../b"));
    }

    private void WriteFile(string relative, byte[] content, DateTime mtimeUtc)
    {
        var path = Path.Combine(Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, mtimeUtc);
    }

    /// <summary>Does what a device and the host do together: chunk, offer, store, commit (the entries changed by <paramref name="edit"/> first, if given).</summary>
    private async Task<long> BackupAsync(string label, Action<List<TreeEntry>>? edit = null)
    {
        var entries = new List<TreeEntry>();
        await using var writer = await _store.BeginWriteAsync(CancellationToken.None);
        entries.Add(new TreeEntry(label, EntryKind.Directory, 0, TreeEntry.ToUnixNs(Directory.GetLastWriteTimeUtc(Source)), 0, []));
        await AddFolderAsync(writer, new DirectoryInfo(Source), label, entries);
        edit?.Invoke(entries);
        return await writer.CommitAsync(Request, entries, CancellationToken.None);
    }

    private async Task AddFolderAsync(StoreWriter writer, DirectoryInfo folder, string prefix, List<TreeEntry> entries)
    {
        foreach (var child in folder.GetFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var path = prefix + "/" + child.Name;
            if (child is DirectoryInfo sub)
            {
                entries.Add(new TreeEntry(path, EntryKind.Directory, 0, TreeEntry.ToUnixNs(sub.LastWriteTimeUtc), 0, []));
                await AddFolderAsync(writer, sub, path, entries);
                continue;
            }

            var file = (FileInfo)child;
            var ids = new List<ChunkId>();
            await using (var stream = file.OpenRead())
            {
                var chunker = new Chunker(stream);
                while (await chunker.MoveNextAsync(CancellationToken.None))
                {
                    var id = ChunkId.Of(chunker.Current.Span);
                    ids.Add(id);
                    var (compression, data) = _codec.Compress(chunker.Current);
                    await writer.AddAsync(id, compression, data, chunker.Current, CancellationToken.None);
                }
            }

            entries.Add(new TreeEntry(path, EntryKind.File, file.Length, TreeEntry.ToUnixNs(file.LastWriteTimeUtc), 0, [.. ids]));
        }
    }

    private async Task<RestoreResult> RestoreAsync(long snapshotId)
    {
        using var reader = _store.OpenReader();
        var snapshot = reader.Catalog.GetSnapshot(snapshotId)!;
        return await new FolderRestorer(reader).RestoreAsync(snapshot, Target, null, CancellationToken.None);
    }

    private static void AssertSameTree(string expectedRoot, string actualRoot)
    {
        static string[] List(string root) =>
            Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(root, p))
                .Order(StringComparer.Ordinal)
                .ToArray();

        var expected = List(expectedRoot);
        Assert.Equal(expected, List(actualRoot));
        foreach (var relative in expected.Prepend("."))
        {
            var source = Path.Combine(expectedRoot, relative);
            var restored = Path.Combine(actualRoot, relative);
            if (File.Exists(source))
            {
                Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(restored));
                Assert.Equal(File.GetLastWriteTimeUtc(source), File.GetLastWriteTimeUtc(restored));
            }
            else
            {
                Assert.True(Directory.Exists(restored), relative);
                Assert.Equal(Directory.GetLastWriteTimeUtc(source), Directory.GetLastWriteTimeUtc(restored));
            }
        }
    }

    private static long TreeBytes(Catalog catalog) => catalog.ListSnapshots().SelectMany(s => s.Tree).Distinct().Sum(id => catalog.FindChunk(id)!.Entry.RawLength);
}
