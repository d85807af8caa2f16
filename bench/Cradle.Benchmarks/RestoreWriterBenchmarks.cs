using BenchmarkDotNet.Attributes;
using Cradle.Store;

namespace Cradle.Benchmarks;

/// <summary>
/// A restore's writing side: <see cref="FolderRestorer"/> restoring a 16 MiB snapshot into a new
/// folder (reading and verifying every chunk, writing each file under a temporary name, renaming
/// it into place, setting its time), against the floor: the same files written straight from
/// memory with <see cref="File.WriteAllBytes(string, byte[])"/>, a folder at a time on as many
/// workers as the restore uses. Two shapes of the same 16 MiB: 4,096 files of 4 KiB in 41
/// folders, and 4 files of 4 MiB (database-like pages, in compression groups). The difference is
/// what the restore path adds to the kernel's cost of making the files. The folders are made in
/// /dev/shm (tmpfs) where there is one: a disk's state (its journal, just-deleted inodes) swings
/// file creation by more than the difference measured here.
/// </summary>
[MemoryDiagnoser]
public class RestoreWriterBenchmarks
{
    private const int TotalLength = 16 * 1024 * 1024;

    private BenchmarkStore _store = null!;
    private SnapshotReader _reader = null!;
    private List<(string Path, byte[] Content)> _files = [];
    private string _target = "";

    [Params("small", "large")]
    public string Shape { get; set; } = "small";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var (count, kind) = Shape == "small" ? (4096, "text") : (4, "database");
        var length = TotalLength / count;
        _files = [.. Enumerable.Range(0, count).Select(i => ($"Data/d{i / 100:00}/f{i:0000}.dat",
            kind == "text" ? BenchmarkData.Text((ulong)i + 7, length) : BenchmarkData.Database((ulong)i + 7, length)))];
        _store = await BenchmarkStore.CreateAsync(_files).ConfigureAwait(false);
        _reader = _store.Store.OpenReader();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        _store.Dispose();
    }

    [IterationSetup]
    public void NewTarget() =>
        _target = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"cradle-bench-restore-{Guid.NewGuid():N}");

    [IterationCleanup]
    public void DeleteTarget() => Directory.Delete(_target, recursive: true);

    /// <summary>The floor: the files written from memory, folders made as needed.</summary>
    [Benchmark(Baseline = true)]
    [BytesPerOperation(TotalLength)]
    public void WriteFromMemory()
    {
        var folders = _files.GroupBy(f => Path.GetDirectoryName(f.Path)!, StringComparer.Ordinal).ToList();
        Parallel.ForEach(folders, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, 4) }, folder =>
        {
            Directory.CreateDirectory(Path.Combine(_target, folder.Key));
            foreach (var (path, content) in folder)
            {
                File.WriteAllBytes(Path.Combine(_target, path), content);
            }
        });
    }

    /// <summary>Cradle's restore of the snapshot (its workers, reads, verification, renames, times).</summary>
    [Benchmark]
    [BytesPerOperation(TotalLength)]
    public async Task<long> FolderRestore() => (await new FolderRestorer(_reader).RestoreAsync(_store.Snapshot, _target, new FolderRestoreOptions(), progress: null, CancellationToken.None).ConfigureAwait(false)).Bytes;
}
