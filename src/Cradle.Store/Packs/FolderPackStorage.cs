using Cradle.Content;
using Microsoft.Win32.SafeHandles;

namespace Cradle.Store;

/// <summary>
/// Packs as files in a local folder, by default <c>packs/</c> in the host's folder. A pack is
/// written in place: <see cref="PackWriter"/> fsyncs the file and its folder when it seals it, so
/// <see cref="PutAsync"/> has nothing left to do.
/// </summary>
internal sealed class FolderPackStorage : IPackStorage
{
    public FolderPackStorage(string folder)
    {
        Folder = Path.GetFullPath(folder);
        PrivateFiles.CreateFolder(Folder);
    }

    public string Folder { get; }

    public string Location => Folder;

    public string StagingPathFor(string name) => PathOf(name);

    public Task PutAsync(string name, string stagingPath, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IPackHandle> OpenReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<IPackHandle>(new FileHandle(File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read)));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreCorruptException($"pack {name} is missing from {Folder}", e);
        }
    }

    public Task<long?> LengthOfAsync(string name, CancellationToken cancellationToken)
    {
        var file = new FileInfo(PathOf(name));
        return Task.FromResult(file.Exists ? file.Length : (long?)null);
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Directory.EnumerateFiles(Folder, "*.pack", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .ToList());

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        File.Delete(path);
        Durability.FlushFolder(Path.GetDirectoryName(path)!);
        return Task.CompletedTask;
    }

    /// <summary>None: a pack is staged where it stays, so leftovers are unnamed packs (<see cref="ChunkStore.UnnamedPackFilesAsync"/>).</summary>
    public IReadOnlyList<string> StagedLeftovers() => [];

    private string PathOf(string name) => Path.Combine(Folder, name.Replace('/', Path.DirectorySeparatorChar));

    private sealed class FileHandle(SafeFileHandle handle) : IPackHandle
    {
        public long Length => RandomAccess.GetLength(handle);

        /// <summary>
        /// Reads synchronously, as the store did before pack reads became asynchronous: a pack's
        /// bytes are mostly in the page cache, and a positional read of a local file returns at
        /// once, so the restore's per-chunk reads do not hop to the thread pool.
        /// </summary>
        public ValueTask<int> ReadAsync(Memory<byte> destination, long offset, CancellationToken cancellationToken)
        {
            var span = destination.Span;
            var total = 0;
            while (total < span.Length)
            {
                var read = RandomAccess.Read(handle, span[total..], offset + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return ValueTask.FromResult(total);
        }

        public void Dispose() => handle.Dispose();
    }
}
