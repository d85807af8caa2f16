using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// Keeps prune apart from everything that reads or writes chunks. Backups, check and restore
/// hold the lock shared; prune holds it exclusively, so it never deletes a chunk a backup in
/// flight is about to name, nor a pack file a writer has not sealed yet. Built on the lock file
/// <c>store.lock</c>: .NET takes flock(2) LOCK_SH for a shared open and LOCK_EX for
/// <see cref="FileShare.None"/>, and the kernel releases it when a process dies.
/// </summary>
public sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(FileStream file) => _file = file;

    public static string PathFor(ChunkStore store) => System.IO.Path.Combine(store.Folder, "store.lock");

    /// <summary>Takes the lock, waiting up to <paramref name="wait"/> while the other kind holds it.</summary>
    public static async Task<StoreLock> AcquireAsync(ChunkStore store, bool exclusive, TimeSpan wait, CancellationToken cancellationToken)
    {
        var started = store.Time.GetTimestamp();
        while (true)
        {
            try
            {
                // The shared side opens for reading only: .NET skips flock for files opened for
                // writing on network filesystems, and a skipped shared lock would let prune in.
                var file = exclusive
                    ? new FileStream(PathFor(store), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                    : new FileStream(PathFor(store), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                return new StoreLock(file);
            }
            catch (IOException) when (store.Time.GetElapsedTime(started) < wait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), store.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new CradleException(exclusive
                    ? $"backups, checks or restores are running on {store.Folder}; prune waits for none of them to run (tried for {wait.TotalSeconds:0} s)"
                    : $"prune is running on {store.Folder}; try again when it has finished (waited {wait.TotalSeconds:0} s)", isTransient: true, e);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
