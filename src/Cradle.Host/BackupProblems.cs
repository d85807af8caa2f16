using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// What one backup could not read (protocol v3: entries with a <c>problem</c>), and what stands
/// in for it: the newest earlier snapshot's version of each such file, and for a folder that
/// could not be listed (or a data folder that is missing) every entry it held beneath it. A
/// carried entry names the earlier version's chunks, so prune keeps them as long as any
/// snapshot carrying them does. The earlier snapshot's tree is read only when the first problem
/// arrives; a backup that read everything costs nothing here.
/// </summary>
internal sealed class BackupProblems(ChunkStore store, SnapshotInfo? previous)
{
    /// <summary>Most notes (things without a storable name) one backup may send.</summary>
    public const int MaxUnnamed = 100;

    /// <summary>Most characters of a reason or a note kept from the wire.</summary>
    public const int MaxReasonLength = Catalog.MaxReasonLength;

    private List<TreeEntry>? _tree;
    private Dictionary<string, int>? _index;

    /// <summary>The device's newest snapshot under this partnership, which stands in for what could not be read.</summary>
    public SnapshotInfo? Previous => previous;

    public List<SnapshotProblem> Problems { get; } = [];

    /// <summary>Entries taken from <see cref="Previous"/>.</summary>
    public long CarriedForward { get; private set; }

    /// <summary>Problem entries received (the device's BackupEnd counts them too).</summary>
    public long Received { get; private set; }

    /// <summary>
    /// A file or folder the device could not read: records why, and adds to <paramref name="entries"/>
    /// the earlier version of it (and, a folder, of everything beneath it) whose chunks the store
    /// still holds. <paramref name="sent"/> is the device's entry: a folder it saw but could not
    /// list is kept as an (empty) folder when no earlier snapshot had it.
    /// </summary>
    public async Task AddAsync(TreeEntry sent, string reason, TreeBuilder entries, Func<string, bool> claimPath, StoreWriter writer, CancellationToken cancellationToken)
    {
        Received++;
        var carried = 0L;
        var folder = sent.Kind == EntryKind.Directory;
        if (previous is not null && _tree is null)
        {
            await LoadTreeAsync(cancellationToken).ConfigureAwait(false);
        }

        var earlier = Earlier(sent.Path, folder);
        var hadItself = false;
        foreach (var entry in earlier)
        {
            hadItself |= entry.Path == sent.Path;
            // Chunks that prune condemned meanwhile are no longer there to name; a path the
            // snapshot already holds keeps the device's own entry.
            if (entry.Chunks.All(writer.Has) && claimPath(entry.Path))
            {
                entries.Add(entry);
                carried++;
            }
        }

        // A folder the device saw (it has a time or a mode) but could not list stays a folder;
        // one it could not find at all (a missing data folder: time and mode 0) does not.
        if (folder && !hadItself && (sent.MtimeUnixNs != 0 || sent.Mode != 0) && claimPath(sent.Path))
        {
            entries.Add(sent);
        }

        CarriedForward += carried;
        Problems.Add(new SnapshotProblem(sent.Path, WireText.CleanAtMost(reason, MaxReasonLength), folder, carried, carried > 0 ? previous?.Id : null));
    }

    /// <summary>Something the device could not back up and cannot name by a snapshot path.</summary>
    public void AddUnnamed(string note) =>
        Problems.Add(new SnapshotProblem("", WireText.CleanAtMost(note, MaxReasonLength), Folder: false, 0, null));

    /// <summary>The earlier snapshot's entry at <paramref name="path"/>, and with a folder every entry beneath it, in tree order.</summary>
    private IEnumerable<TreeEntry> Earlier(string path, bool folder)
    {
        if (previous is null)
        {
            yield break;
        }

        var tree = _tree!;
        var prefix = path + "/";
        if (_index!.TryGetValue(path, out var at))
        {
            // Depth-first in sorted order: a folder's entries follow it without a gap.
            yield return tree[at];
            if (!folder || tree[at].Kind != EntryKind.Directory)
            {
                yield break;
            }

            for (var i = at + 1; i < tree.Count && tree[i].Path.StartsWith(prefix, StringComparison.Ordinal); i++)
            {
                yield return tree[i];
            }

            yield break;
        }

        if (folder)
        {
            // No entry for the folder itself (an older snapshot without it): any entry beneath it.
            foreach (var entry in tree.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal)))
            {
                yield return entry;
            }
        }
    }

    private async Task LoadTreeAsync(CancellationToken cancellationToken)
    {
        using var reader = store.OpenReader();
        var tree = await reader.LoadTreeAsync(previous!, cancellationToken).ConfigureAwait(false);
        _index = new Dictionary<string, int>(tree.Count, StringComparer.Ordinal);
        for (var i = 0; i < tree.Count; i++)
        {
            _index.TryAdd(tree[i].Path, i);
        }

        _tree = tree;
    }
}
