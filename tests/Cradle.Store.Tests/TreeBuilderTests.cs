using Cradle.Content;
using Cradle.Protocol;
using Cradle.Tests;

namespace Cradle.Store.Tests;

public sealed class TreeBuilderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(20_000)]
    public void Entries_gathered_one_by_one_encode_to_the_same_bytes_as_the_whole_list(int count)
    {
        // The count in the header is a varint: 127 and 128 entries take one and two bytes.
        var entries = Enumerable.Range(0, count).Select(Entry).ToList();
        using var builder = new TreeBuilder(_temp["tmp"]);
        foreach (var e in entries)
        {
            builder.Add(e);
        }

        using var encoded = new MemoryStream();
        using (var stream = builder.OpenRead())
        {
            stream.CopyTo(encoded);
        }

        Assert.Equal(SnapshotTree.Serialize(entries), encoded.ToArray());
        Assert.Equal(entries.Count(e => e.Kind == EntryKind.File), builder.Files);
        Assert.Equal(entries.Sum(e => e.Size), builder.Bytes);
        Assert.Equal(count, SnapshotTree.Parse(encoded.ToArray()).Count);
    }

    [Fact]
    public void The_temporary_file_has_no_name_so_a_killed_host_leaves_nothing_behind()
    {
        using var builder = new TreeBuilder(_temp["tmp"]);
        builder.Add(Entry(1));
        Assert.Empty(Directory.GetFileSystemEntries(_temp["tmp"]));
    }

    [Fact]
    public void No_entry_is_added_once_the_tree_is_being_read()
    {
        using var builder = new TreeBuilder(_temp["tmp"]);
        builder.Add(Entry(1));
        using var stream = builder.OpenRead();
        Assert.Throws<InvalidOperationException>(() => builder.Add(Entry(2)));
    }

    private static TreeEntry Entry(int i) => i % 10 == 0
        ? new TreeEntry($"folder-{i}", EntryKind.Directory, 0, 1_700_000_000_000_000_000 + i, 0x1ED, [])
        : new TreeEntry($"folder-{i / 10 * 10}/file-{i}.csv", EntryKind.File, i * 7L, 1_700_000_000_000_000_000 + i, 0x1A4, [ChunkId.Of(BitConverter.GetBytes(i))]);
}
