using System.Buffers.Binary;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;
using Microsoft.Data.Sqlite;

namespace Cradle.Store.Tests;

/// <summary>
/// Two devices, three snapshots, files that share chunks within and across devices, built once
/// with <see cref="StoreWriter"/>. Each test damages its own copy.
/// Packs: 1 = ALPHA's first data (its first session was interrupted), 2 = ALPHA's first file
/// list, 3 = BRAVO's data (interrupted too), 4 = BRAVO's file list, 5 = ALPHA's second backup,
/// data and file list in one pack as an uninterrupted backup writes them.
/// </summary>
public class CheckedStoreFixture : IAsyncLifetime
{
    public virtual PackPlace Place => PackPlace.Folder;

    public const string Alpha = "ALPHA-1";
    public const string Bravo = "BRAVO-2";

    public static readonly byte[] Shared = TestData.Bytes(101, 300_000);
    public static readonly byte[] AlphaOnly = TestData.Bytes(102, 200_000);
    public static readonly byte[] Todo = TestData.Text(50_000);
    public static readonly byte[] BravoOnly = TestData.Bytes(103, 250_000);
    public static readonly byte[] NewPhoto = TestData.Bytes(104, 150_000);

    /// <summary>AlphaOnly with more bytes after it: it shares AlphaOnly's leading chunks, not its last.</summary>
    public static readonly byte[] AlphaEdited = [.. AlphaOnly, .. TestData.Bytes(105, 100_000)];

    private readonly TempFolder _temp = new();

    internal TestStore Original { get; private set; } = null!;

    public long Alpha1 { get; private set; }

    public long Bravo1 { get; private set; }

    public long Alpha2 { get; private set; }

    /// <summary>Pack names 1 to 5 as the class summary describes them (index 0 unused).</summary>
    public string[] Packs { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Original = await TestStore.OpenAsync(_temp["store"], _temp.Path, packs: PackPlaces.New(Place, "checked"));
        Alpha1 = await Original.BackupAsync(Alpha, new Dictionary<string, byte[]>
        {
            ["photos/shared.jpg"] = Shared,
            ["photos/alpha-only.jpg"] = AlphaOnly,
            ["notes/todo.txt"] = Todo,
        }, interruptedFirst: true);
        Bravo1 = await Original.BackupAsync(Bravo, new Dictionary<string, byte[]>
        {
            ["camera/same-as-alpha.jpg"] = Shared,
            ["camera/bravo-only.raw"] = BravoOnly,
        }, interruptedFirst: true);
        Alpha2 = await Original.BackupAsync(Alpha, new Dictionary<string, byte[]>
        {
            ["photos/shared.jpg"] = Shared,
            ["photos/alpha-only.jpg"] = AlphaOnly,
            ["photos/alpha-only-edited.jpg"] = AlphaEdited,
            ["photos/new.jpg"] = NewPhoto,
            ["notes/todo.txt"] = Todo,
        });

        using var catalog = Original.Store.OpenCatalog();
        Packs = [.. catalog.ListPacks().Select(p => p.Name).Prepend("")];
        Assert.Equal(6, Packs.Length);
        Assert.Equal(Packs[1], Original.Locate((await TestStore.ChunkIdsAsync(Shared))[0]).PackName);
        Assert.Equal(Packs[3], Original.Locate((await TestStore.ChunkIdsAsync(BravoOnly))[0]).PackName);
        Assert.Equal(Packs[5], Original.Locate((await TestStore.ChunkIdsAsync(NewPhoto))[0]).PackName);
        Assert.Equal(Packs[5], Original.Locate(catalog.GetSnapshot(Alpha2)!.Tree[0]).PackName);
    }

    public Task DisposeAsync()
    {
        Original.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class CheckedStoreOnS3Fixture : CheckedStoreFixture
{
    public override PackPlace Place => PackPlace.S3;
}

public sealed class StoreCheckOnFolderTests(CheckedStoreFixture fixture) : StoreCheckTests(fixture), IClassFixture<CheckedStoreFixture>;

public sealed class StoreCheckOnS3Tests(CheckedStoreOnS3Fixture fixture) : StoreCheckTests(fixture), IClassFixture<CheckedStoreOnS3Fixture>;

public abstract class StoreCheckTests(CheckedStoreFixture fixture) : IAsyncLifetime
{
    private const string Alpha = CheckedStoreFixture.Alpha;
    private const string Bravo = CheckedStoreFixture.Bravo;

    private readonly TempFolder _temp = new();
    private TestStore? _copy;

    public async Task InitializeAsync() => _copy = await fixture.Original.CopyToAsync(_temp["store"], _temp.Path, PackPlaces.New(fixture.Place, "check"));

    public Task DisposeAsync()
    {
        _copy?.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>This test's own copy of the fixture's store, to damage.</summary>
    private TestStore Copy => _copy!;

    private string Pack(int pack) => fixture.Packs[pack];

    private Task<CheckReport> CheckAsync(bool readData) => new StoreChecker(Copy.Store).CheckAsync(readData, null, CancellationToken.None);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_undamaged_store_is_ok_with_no_problems_and_no_notes(bool readData)
    {
        StoreTotals totals;
        using (var catalog = Copy.Store.OpenCatalog())
        {
            totals = catalog.Totals();
        }

        var report = await CheckAsync(readData);

        Assert.True(report.Ok);
        Assert.Empty(report.Problems);
        Assert.Empty(report.Notes);
        Assert.Equal(5, report.Packs);
        Assert.Equal(3, report.Snapshots);
        Assert.Equal(totals.Chunks, report.Chunks);
        Assert.Equal(readData, report.ReadData);
        Assert.Equal(readData ? totals.StoredBytes : 0, report.BytesRead);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_deleted_pack_is_a_missing_pack_naming_only_the_snapshot_and_file_that_need_it(bool readData)
    {
        await Copy.DeletePackAsync(Pack(3));

        var report = await CheckAsync(readData);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal("missing-pack", problem.Kind);
        Assert.Equal(fixture.Packs[3], problem.Pack);
        Assert.Contains(fixture.Packs[3], problem.Detail, StringComparison.Ordinal);
        var affected = Assert.Single(problem.Affected);
        Assert.Equal((fixture.Bravo1, Bravo, 1), (affected.Snapshot, affected.Device, affected.Files));
        Assert.Equal(["camera/bravo-only.raw"], affected.Paths);
    }

    [Fact]
    public async Task A_deleted_pack_of_shared_chunks_names_every_snapshot_and_every_file_on_both_devices()
    {
        await Copy.DeletePackAsync(Pack(1));

        var report = await CheckAsync(readData: false);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("missing-pack", fixture.Packs[1]), (problem.Kind, problem.Pack));
        var affected = problem.Affected.ToDictionary(a => a.Snapshot);
        Assert.Equal(new[] { fixture.Alpha1, fixture.Bravo1, fixture.Alpha2 }.Order(), affected.Keys.Order());
        Assert.Equal(Alpha, affected[fixture.Alpha1].Device);
        Assert.Equal(Bravo, affected[fixture.Bravo1].Device);
        Assert.Equal(Alpha, affected[fixture.Alpha2].Device);
        AssertPaths(["notes/todo.txt", "photos/alpha-only.jpg", "photos/shared.jpg"], affected[fixture.Alpha1]);
        AssertPaths(["camera/same-as-alpha.jpg"], affected[fixture.Bravo1]);
        // The edited photo shares the leading chunks of the original, so it is lost too; the new photo is not.
        Assert.NotEmpty((await TestStore.ChunkIdsAsync(CheckedStoreFixture.AlphaEdited)).Intersect(await TestStore.ChunkIdsAsync(CheckedStoreFixture.AlphaOnly)));
        AssertPaths(["notes/todo.txt", "photos/alpha-only-edited.jpg", "photos/alpha-only.jpg", "photos/shared.jpg"], affected[fixture.Alpha2]);
    }

    [Fact]
    public async Task A_deleted_pack_holding_a_file_list_makes_that_snapshot_unreadable_and_only_that_one()
    {
        await Copy.DeletePackAsync(Pack(5));

        var report = await CheckAsync(readData: false);

        Assert.False(report.Ok);
        Assert.Equal(["missing-pack", "unreadable-tree"], report.Problems.Select(p => p.Kind).Order(StringComparer.Ordinal));
        var missing = report.Problems.Single(p => p.Kind == "missing-pack");
        Assert.Equal(fixture.Packs[5], missing.Pack);
        Assert.Empty(missing.Affected);
        var tree = report.Problems.Single(p => p.Kind == "unreadable-tree");
        Assert.Contains(fixture.Packs[5], tree.Detail, StringComparison.Ordinal);
        var affected = Assert.Single(tree.Affected);
        Assert.Equal((fixture.Alpha2, Alpha), (affected.Snapshot, affected.Device));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_truncated_pack_names_the_pack_and_the_file_whose_chunk_was_cut(bool readData)
    {
        var last = Copy.Locate((await TestStore.ChunkIdsAsync(CheckedStoreFixture.BravoOnly))[^1]);
        Assert.Equal(fixture.Packs[3], last.PackName);
        await Copy.TruncatePackAsync(Pack(3), last.Entry.DataOffset + (last.Entry.StoredLength / 2));

        var report = await CheckAsync(readData);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("truncated-pack", fixture.Packs[3]), (problem.Kind, problem.Pack));
        var affected = Assert.Single(problem.Affected);
        Assert.Equal((fixture.Bravo1, Bravo), (affected.Snapshot, affected.Device));
        Assert.Equal(["camera/bravo-only.raw"], affected.Paths);
    }

    [Fact]
    public async Task A_flipped_bit_is_found_only_when_reading_data_and_names_the_chunk_the_pack_and_the_file()
    {
        var id = (await TestStore.ChunkIdsAsync(CheckedStoreFixture.BravoOnly))[0];
        var location = Copy.Locate(id);
        await Copy.FlipBitAsync(Pack(3), location.Entry.DataOffset + (location.Entry.StoredLength / 2));

        var quick = await CheckAsync(readData: false);
        Assert.True(quick.Ok, "without --read-data the check reads no chunk data, so it cannot see a flipped bit");
        Assert.Empty(quick.Problems);

        var report = await CheckAsync(readData: true);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("damaged-chunk", fixture.Packs[3], id.ToString()), (problem.Kind, problem.Pack, problem.Chunk));
        var affected = Assert.Single(problem.Affected);
        Assert.Equal((fixture.Bravo1, Bravo, 1), (affected.Snapshot, affected.Device, affected.Files));
        Assert.Equal(["camera/bravo-only.raw"], affected.Paths);
    }

    [Fact]
    public async Task A_flipped_bit_in_a_shared_chunk_names_each_snapshot_with_its_own_path()
    {
        var id = (await TestStore.ChunkIdsAsync(CheckedStoreFixture.Shared))[0];
        var location = Copy.Locate(id);
        await Copy.FlipBitAsync(Pack(1), location.Entry.DataOffset + 7);

        var report = await CheckAsync(readData: true);

        var problem = Assert.Single(report.Problems);
        Assert.Equal(("damaged-chunk", fixture.Packs[1], id.ToString()), (problem.Kind, problem.Pack, problem.Chunk));
        var affected = problem.Affected.ToDictionary(a => a.Snapshot);
        Assert.Equal(3, affected.Count);
        AssertPaths(["photos/shared.jpg"], affected[fixture.Alpha1]);
        AssertPaths(["camera/same-as-alpha.jpg"], affected[fixture.Bravo1]);
        AssertPaths(["photos/shared.jpg"], affected[fixture.Alpha2]);
        Assert.Equal(Bravo, affected[fixture.Bravo1].Device);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_chunk_row_deleted_from_the_catalog_is_a_missing_chunk_naming_the_path(bool readData)
    {
        var id = (await TestStore.ChunkIdsAsync(CheckedStoreFixture.NewPhoto))[0];
        Execute("DELETE FROM chunks WHERE id = $id", id);

        var report = await CheckAsync(readData);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("missing-chunk", id.ToString()), (problem.Kind, problem.Chunk));
        var affected = Assert.Single(problem.Affected);
        Assert.Equal((fixture.Alpha2, Alpha, 1), (affected.Snapshot, affected.Device, affected.Files));
        Assert.Equal(["photos/new.jpg"], affected.Paths);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_chunk_row_pointing_at_an_unknown_pack_is_a_dangling_row_naming_the_path(bool readData)
    {
        var id = (await TestStore.ChunkIdsAsync(CheckedStoreFixture.BravoOnly))[0];
        Execute("UPDATE chunks SET pack = 9999 WHERE id = $id", id);

        var report = await CheckAsync(readData);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("dangling-chunk-row", id.ToString()), (problem.Kind, problem.Chunk));
        var affected = Assert.Single(problem.Affected);
        Assert.Equal((fixture.Bravo1, Bravo), (affected.Snapshot, affected.Device));
        Assert.Equal(["camera/bravo-only.raw"], affected.Paths);
    }

    [Fact]
    public async Task A_pack_header_of_an_unknown_version_is_a_bad_pack_header_when_reading_data()
    {
        await Copy.ChangePackAsync(Pack(3), bytes =>
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 3);
            return bytes;
        });

        var report = await CheckAsync(readData: true);

        Assert.False(report.Ok);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("bad-pack-header", fixture.Packs[3]), (problem.Kind, problem.Pack));
        Assert.Contains("format version 3", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pack_file_the_catalog_does_not_name_is_ok_with_a_note()
    {
        // What a backup killed between sealing its pack and committing leaves behind.
        var data = TestData.Bytes(106, 20_000);
        var pack = PackWriter.Create(Copy.Store.Packs);
        await using (pack)
        {
            await pack.AppendAsync(ChunkId.Of(data), ChunkCompression.None, data, data.Length, CancellationToken.None);
            await pack.SealAsync(CancellationToken.None);
        }

        using (var catalog = Copy.Store.OpenCatalog())
        {
            Assert.Equal([pack.Name], await Copy.Store.UnnamedPackFilesAsync(catalog, CancellationToken.None));
        }

        var report = await CheckAsync(readData: true);

        Assert.True(report.Ok);
        Assert.Empty(report.Problems);
        var note = Assert.Single(report.Notes);
        Assert.Contains("1 pack files are not named by the catalog", note, StringComparison.Ordinal);
        Assert.Equal(5, report.Packs);
    }

    [Fact]
    public async Task A_store_of_catalog_schema_1_made_before_suspect_flags_existed_is_migrated_and_still_checks_and_takes_backups()
    {
        // Make the copy what an early build wrote: schema version 1 without the suspect column
        // (and without schema 2's condemned chunks, retired packs, leases and epoch).
        using (var connection = new SqliteConnection($"Data Source={Copy.Store.DatabasePath};Pooling=False"))
        {
            connection.Open();
            foreach (var sql in (string[])[
                "ALTER TABLE snapshots DROP COLUMN suspect", "ALTER TABLE chunks DROP COLUMN condemned", "ALTER TABLE packs DROP COLUMN retired",
                "DROP TABLE leases", "DROP TABLE maintenance", "DROP TABLE chunk_owners", "DELETE FROM meta WHERE key = 'epoch'", "UPDATE meta SET value = '1' WHERE key = 'catalog_schema'"])
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.ExecuteNonQuery();
            }
        }

        var store = await ChunkStore.OpenAsync(Copy.Store.Folder, packs: PackStorage.Open(Copy.PacksAddress, Copy.Store.Folder));
        var report = await new StoreChecker(store).CheckAsync(readData: false, null, CancellationToken.None);
        Assert.True(report.Ok);
        Assert.Equal(3, report.Snapshots);

        await using (var writer = await store.BeginWriteAsync(CancellationToken.None))
        {
            await writer.CommitAsync(TestStore.Request(Alpha), [], CancellationToken.None);
        }

        using var catalog = store.OpenCatalog();
        Assert.Equal(4, catalog.ListSnapshots().Count);
        Assert.Equal(1, catalog.Epoch());
    }

    private static void AssertPaths(string[] expected, AffectedSnapshot affected)
    {
        Assert.Equal(expected.Order(StringComparer.Ordinal), affected.Paths.Order(StringComparer.Ordinal));
        Assert.Equal(expected.Length, affected.Files);
    }

    /// <summary>Damages the catalog with plain SQL, foreign keys off, as a broken tool or disk would.</summary>
    private void Execute(string sql, ChunkId id)
    {
        using var connection = new SqliteConnection($"Data Source={Copy.Store.DatabasePath};Pooling=False");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA foreign_keys=OFF";
            pragma.ExecuteNonQuery();
        }

        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id.ToArray());
        Assert.Equal(1, command.ExecuteNonQuery());
    }
}
