using Cradle.Content;

namespace Cradle.Store.Tests;

/// <summary>How a restore's files are handed to its workers: a folder's files at a time.</summary>
public sealed class RestoreBatchesTests
{
    [Fact]
    public void A_batch_is_one_folders_files_cut_where_it_reaches_the_batch_size()
    {
        const long Big = FolderRestorer.BatchBytes - 1;
        var work = new List<(TreeEntry Entry, string Path)>
        {
            File("/r/Logs/a.log", 1000), File("/r/Logs/b.log", 2000), File("/r/Logs/c.log", 3000),
            File("/r/Databases/one.db", Big), File("/r/Databases/two.db", Big), File("/r/Databases/x.ini", 10),
            File("/r/Logs/day/d.log", 5),
            File("/r/top.txt", 1),
        };

        Assert.Equal([(0, 3), (3, 5), (5, 6), (6, 7), (7, 8)], FolderRestorer.Batches(work));
    }

    [Fact]
    public void No_files_no_batches() => Assert.Empty(FolderRestorer.Batches([]));

    private static (TreeEntry, string) File(string path, long size) =>
        (new TreeEntry(path[3..], EntryKind.File, size, 0, 0, []), path);
}
