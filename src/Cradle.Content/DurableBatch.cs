namespace Cradle.Content;

/// <summary>
/// Restored files made durable a batch at a time instead of one fsync each. A file is written
/// under a temporary name and closed (not flushed), then <see cref="Add"/>ed; <see cref="Commit"/>
/// makes the batch's contents durable (one sync per file system), only then gives each file its
/// real name, time and mode, makes the names durable, and only then reports the files restored.
/// So after a power cut a real name never holds a file whose bytes were lost, and nothing was
/// reported restored that a power cut could take back; a cut before the end leaves temporary
/// files, which the next restore removes (<see cref="RestoredFile.RemoveLeftovers"/>).
/// </summary>
/// <param name="sync">Makes what was written under the folders (and the files, where there is
/// no file-system sync) durable; <see cref="Durability.SyncFileSystems"/> unless a test watches the order.</param>
/// <param name="time">The clock of <see cref="MaxAge"/>.</param>
public sealed class DurableBatch(Action<IReadOnlyCollection<string>, IReadOnlyCollection<string>>? sync = null, TimeProvider? time = null)
{
    /// <summary>Most bytes held before a commit: what a cut could make the next restore ask again for.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>Most files held before a commit.</summary>
    public const int MaxFiles = 4096;

    /// <summary>
    /// Longest a batch stays open: on a slow link (a serial line) a cut restore loses at most
    /// this much of its work, as with an fsync per file; on a fast one a second holds thousands of files.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly Action<IReadOnlyCollection<string>, IReadOnlyCollection<string>> _sync = sync ?? Durability.SyncFileSystems;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly List<Pending> _pending = [];
    private long _bytes;
    private DateTimeOffset _opened;

    /// <summary>True when the batch should be committed before more files are added.</summary>
    public bool IsFull => _pending.Count >= MaxFiles || _bytes >= MaxBytes || (_pending.Count > 0 && _time.GetUtcNow() - _opened >= MaxAge);

    /// <summary>Files waiting for <see cref="Commit"/>.</summary>
    public int Count => _pending.Count;

    /// <summary>
    /// A finished, closed temporary file to place at <paramref name="path"/> once its bytes are
    /// durable; <paramref name="label"/> is how <see cref="Commit"/> names it (the snapshot's path).
    /// </summary>
    public void Add(string temp, string path, uint mode, DateTime mtimeUtc, long bytes, string label)
    {
        if (_pending.Count == 0)
        {
            _opened = _time.GetUtcNow();
        }

        _pending.Add(new Pending(temp, path, mode, mtimeUtc, bytes, label));
        _bytes += bytes;
    }

    /// <summary>
    /// Makes the batch durable and placed: per file, its label and null, or the reason it was
    /// not restored (its temporary file is then gone; the device's earlier file, if any, stays).
    /// </summary>
    public List<(string Label, long Bytes, string? Failure)> Commit()
    {
        var results = new List<(string Label, long Bytes, string? Failure)>(_pending.Count);
        if (_pending.Count == 0)
        {
            return results;
        }

        var folders = _pending.Select(p => Path.GetDirectoryName(p.Path)!).Distinct(StringComparer.Ordinal).ToList();
        try
        {
            // The contents first: a rename made durable before the bytes it names could leave an
            // empty or partial file under the real name after a power cut.
            _sync(folders, _pending.Select(p => p.Temp).ToList());
        }
        catch (IOException e)
        {
            foreach (var p in _pending)
            {
                DeleteQuietly(p.Temp);
                results.Add((p.Label, p.Bytes, $"could not make it durable: {e.Message}"));
            }

            Clear();
            return results;
        }

        var placed = new List<Pending>(_pending.Count);
        foreach (var p in _pending)
        {
            try
            {
                RestoredFile.Place(p.Temp, p.Path, p.Mode, p.MtimeUtc);
                placed.Add(p);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                DeleteQuietly(p.Temp);
                results.Add((p.Label, p.Bytes, e.Message));
            }
        }

        string? namesFailure = null;
        try
        {
            // Then the names (and the times and modes set on the way).
            _sync(folders, placed.Select(p => p.Path).ToList());
        }
        catch (IOException e)
        {
            namesFailure = $"written, but its name could not be made durable: {e.Message}";
        }

        foreach (var p in placed)
        {
            results.Add((p.Label, p.Bytes, namesFailure));
        }

        Clear();
        return results;
    }

    /// <summary>Removes the temporary files of a batch that will not be committed (the restore failed).</summary>
    public void Abandon()
    {
        foreach (var p in _pending)
        {
            DeleteQuietly(p.Temp);
        }

        Clear();
    }

    private void Clear()
    {
        _pending.Clear();
        _bytes = 0;
    }

    private static void DeleteQuietly(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next restore, which removes temporary files before it writes.
            _ = e;
        }
    }

    private sealed record Pending(string Temp, string Path, uint Mode, DateTime MtimeUtc, long Bytes, string Label);
}
