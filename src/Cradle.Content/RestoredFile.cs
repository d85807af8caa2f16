using System.Text.RegularExpressions;
using Cradle.Protocol;

namespace Cradle.Content;

/// <summary>
/// What both restores (into a folder on the host, onto a device) share so that a restore that
/// was cut can be run again: how a file is written (a temporary name in its own folder, its time
/// and mode set, then renamed: a real name never holds a partial file), how the temporary files
/// of an earlier cut run are recognised and removed, and how a file already whole is recognised
/// (size, modification time and every chunk's hash as the snapshot has them) and left alone.
/// </summary>
public static partial class RestoredFile
{
    /// <summary>The start of every temporary file a restore writes: <c>.cradle-restore-HEX32.tmp</c>.</summary>
    public const string TempPrefix = ".cradle-restore-";

    /// <summary>A fresh temporary path beside <paramref name="path"/> (short: the file's own name may already be as long as names go).</summary>
    public static string TempPathFor(string path) => Path.Combine(Path.GetDirectoryName(path)!, $"{TempPrefix}{Guid.NewGuid():N}.tmp");

    /// <summary>True for the name of a temporary file a restore wrote (this release's, or the host restore's of earlier releases, <c>.cradle-HEX32.tmp</c>).</summary>
    public static bool IsTempName(string name) => TempName().IsMatch(name);

    /// <summary>
    /// Removes the temporary files an earlier, cut restore left in <paramref name="folder"/>
    /// (not below it); returns how many. A folder that does not exist has none.
    /// </summary>
    public static int RemoveLeftovers(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder, ".cradle-*.tmp"))
        {
            if (IsTempName(Path.GetFileName(file)))
            {
                File.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>
    /// Gives the finished temporary file the entry's mode and time, then its real name, so that
    /// a file under its real name with the snapshot's time is always the whole file.
    /// </summary>
    public static void Place(string temp, string path, uint mode, DateTime mtimeUtc)
    {
        FileModes.Apply(temp, mode);
        File.SetLastWriteTimeUtc(temp, mtimeUtc);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Makes <paramref name="path"/> a second name of the file a restore already placed at
    /// <paramref name="target"/> (a hard link of the snapshot): linked under a temporary name in
    /// the path's folder, then renamed over whatever is there. Mode and time are the target's (one
    /// inode). A path that already is that file is left alone.
    /// </summary>
    /// <exception cref="IOException">The link cannot be made (another file system, one without hard links, too many links): the caller writes the content instead.</exception>
    public static void PlaceLink(string target, string path)
    {
        if (FileIdentity.SameFile(target, path))
        {
            return;
        }

        var temp = TempPathFor(path);
        FileIdentity.Link(target, temp);
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// The cheap half of <see cref="IsWhole"/>: a regular file at <paramref name="path"/> of the
    /// entry's size and modification time (to the 100 ns a restore sets).
    /// </summary>
    public static bool LooksWhole(string path, long size, DateTime mtimeUtc)
    {
        var info = new FileInfo(path);
        return info.Exists && info.LinkTarget is null && info.Length == size && info.LastWriteTimeUtc == mtimeUtc;
    }

    /// <summary>
    /// True when the file at <paramref name="path"/> is the entry's file: its size and time,
    /// and its bytes, cut at the chunk lengths the store knows (<paramref name="lengthOf"/>),
    /// hash to the entry's chunk ids in order. Reads the file once; false at the first difference.
    /// </summary>
    public static bool IsWhole(string path, long size, DateTime mtimeUtc, IReadOnlyList<ChunkId> chunks, Func<ChunkId, int> lengthOf, byte[] buffer)
    {
        if (!LooksWhole(path, size, mtimeUtc))
        {
            return false;
        }

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long offset = 0;
        foreach (var id in chunks)
        {
            var length = lengthOf(id);
            if (length > buffer.Length || offset + length > size)
            {
                return false;
            }

            var read = RandomAccess.Read(file, buffer.AsSpan(0, length), offset);
            if (read != length || ChunkId.Of(buffer.AsSpan(0, length)) != id)
            {
                return false;
            }

            offset += length;
        }

        return offset == size;
    }

    /// <summary>
    /// <see cref="IsWhole"/> for a side that does not know the chunk lengths (the device): the
    /// file is cut again by <paramref name="chunker"/>, as its backup cut it.
    /// </summary>
    public static async Task<bool> IsWholeAsync(string path, long size, DateTime mtimeUtc, IReadOnlyList<ChunkId> chunks, Chunker chunker, CancellationToken cancellationToken)
    {
        if (!LooksWhole(path, size, mtimeUtc))
        {
            return false;
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            chunker.Reset(stream);
            var index = 0;
            while (await chunker.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                if (index >= chunks.Count || ChunkId.Of(chunker.Current.Span) != chunks[index])
                {
                    return false;
                }

                index++;
            }

            return index == chunks.Count && stream.Length == size;
        }
    }

    [GeneratedRegex(@"^\.cradle-(restore-)?[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TempName();
}
