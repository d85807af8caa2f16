namespace Cradle.Store;

/// <summary>
/// The last few compression groups the readers of one store decompressed, shared by them: a
/// restore's workers take files in turn, and the small files of one group go to different
/// workers; each decompressing the whole group for its file would multiply the work by the
/// number of files in it. Packs never change once sealed and their names are never reused, so
/// an entry (pack name, record offset) never goes stale. Thread-safe; a group is decompressed
/// once even when several readers ask for it at the same moment.
/// </summary>
internal sealed class GroupCache
{
    /// <summary>Groups kept: about 12 MiB at most (groups of up to 3 MiB).</summary>
    public const int Capacity = 4;

    private readonly LinkedList<(string Pack, long Offset, Lazy<DecodedGroup> Group)> _recent = new();

    /// <summary>The group at <paramref name="offset"/> of <paramref name="pack"/>, decompressed by <paramref name="load"/> when not kept.</summary>
    public DecodedGroup Get(string pack, long offset, Func<DecodedGroup> load)
    {
        Lazy<DecodedGroup> group;
        lock (_recent)
        {
            var node = _recent.First;
            while (node is not null && !(node.Value.Offset == offset && node.Value.Pack == pack))
            {
                node = node.Next;
            }

            if (node is null)
            {
                node = new((pack, offset, new Lazy<DecodedGroup>(load, LazyThreadSafetyMode.ExecutionAndPublication)));
                if (_recent.Count >= Capacity)
                {
                    _recent.RemoveLast();
                }
            }
            else
            {
                _recent.Remove(node);
            }

            _recent.AddFirst(node);
            group = node.Value.Group;
        }

        try
        {
            return group.Value;
        }
        catch
        {
            // A damaged group is not kept: the next reader tries again and reports it too.
            Forget(group);
            throw;
        }
    }

    private void Forget(Lazy<DecodedGroup> group)
    {
        lock (_recent)
        {
            for (var node = _recent.First; node is not null; node = node.Next)
            {
                if (ReferenceEquals(node.Value.Group, group))
                {
                    _recent.Remove(node);
                    return;
                }
            }
        }
    }
}

/// <summary>A decompressed compression group: its member table and its raw bytes (never changed once made).</summary>
internal sealed record DecodedGroup(PackGroup Table, byte[] Raw);
