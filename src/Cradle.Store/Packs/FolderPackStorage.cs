using Cradle.Content;
using Microsoft.Win32.SafeHandles;

namespace Cradle.Store;

/// <summary>
/// Packs as files in a local folder, by default <c>packs/</c> in the host's folder. A pack is
/// written in place: <see cref="PackWriter"/> fsyncs the file and its folder when it seals it, so
/// <see cref="PutAsync"/> has nothing left to do.
/// </summary>
public sealed class FolderPackStorage : IPackStorage
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

    public IPackHandle OpenRead(string name)
    {
        try
        {
            return new FileHandle(File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StoreCorruptException($"pack {name} is missing from {Folder}", e);
        }
    }

    public long? LengthOf(string name)
    {
        var file = new FileInfo(PathOf(name));
        return file.Exists ? file.Length : null;
    }

    public IReadOnlyList<string> List() =>
        Directory.EnumerateFiles(Folder, "*.pack", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .ToList();

    public void Delete(string name)
    {
        var path = PathOf(name);
        File.Delete(path);
        Durability.FlushFolder(Path.GetDirectoryName(path)!);
    }

    /// <summary>None: a pack is staged where it stays, so leftovers are unnamed packs (<see cref="ChunkStore.UnnamedPackFiles"/>).</summary>
    public IReadOnlyList<string> StagedLeftovers() => [];

    private string PathOf(string name) => Path.Combine(Folder, name.Replace('/', Path.DirectorySeparatorChar));

    private sealed class FileHandle(SafeFileHandle handle) : IPackHandle
    {
        public long Length => RandomAccess.GetLength(handle);

        public int Read(Span<byte> destination, long offset)
        {
            var total = 0;
            while (total < destination.Length)
            {
                var read = RandomAccess.Read(handle, destination[total..], offset + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }

        public void Dispose() => handle.Dispose();
    }
}
