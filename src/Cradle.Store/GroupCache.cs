using System.Buffers;

namespace Cradle.Store;

/// <summary>
/// The last few compression groups the readers of one store decompressed, shared by them: a
/// restore's workers take files in turn, and the small files of one group go to different
/// workers; each decompressing the whole group for its file would multiply the work by the
/// number of files in it. Packs never change once sealed and their names are never reused, so
/// an entry (pack name, record offset) never goes stale. Thread-safe; a group is decompressed
/// once even when several readers ask for it at the same moment.
/// <para>
/// The cache keeps one group per open reader (<see cref="MinCapacity"/> at least,
/// <see cref="MaxCapacity"/> at most): a host serving several restores at once has a reader per
/// session, each reading its own group chunk by chunk, and with a fixed four every read of a
/// fifth session evicted the group another was about to read next, so each small chunk cost the
/// decompression of a whole group (GroupCacheBenchmarks: 5 streams).
/// </para>
/// <para>
/// The decompressed bytes live in buffers of a small pool of their own, reused as groups come
/// and go: a fresh 2–3 MiB array per group cost a restore more (the kernel handing the GC new
/// zeroed pages) than decompressing it. A buffer goes back to the pool only once its group has
/// left the cache and no reader is still copying from it (<see cref="Lease"/>).
/// </para>
/// </summary>
internal sealed class GroupCache
{
    /// <summary>Groups kept with up to four readers open: about 12 MiB (groups of up to 3 MiB).</summary>
    public const int MinCapacity = 4;

    /// <summary>Groups kept however many readers are open: about 48 MiB at most.</summary>
    public const int MaxCapacity = 16;

    // The pool keeps the buffers of a cache of the usual size between restores; more readers
    // than that borrow buffers the pool does not keep once they are given back, so a burst of
    // sessions does not hold its memory after it ends.
    private static readonly ArrayPool<byte> Buffers = ArrayPool<byte>.Create(4 * 1024 * 1024, MinCapacity + 4);

    private readonly LinkedList<Entry> _recent = new();
    private int _readers;
    private long _decompressions;

    /// <summary>Groups decompressed since the store opened (the cache's misses; the benchmarks report them).</summary>
    public long Decompressions
    {
        get
        {
            lock (_recent)
            {
                return _decompressions;
            }
        }
    }

    /// <summary>Groups kept now: one per open reader, within <see cref="MinCapacity"/>..<see cref="MaxCapacity"/>.</summary>
    public int Capacity
    {
        get
        {
            lock (_recent)
            {
                return CapacityLocked;
            }
        }
    }

    /// <summary>Groups in the cache now.</summary>
    public int Count
    {
        get
        {
            lock (_recent)
            {
                return _recent.Count;
            }
        }
    }

    private int CapacityLocked => Math.Clamp(_readers, MinCapacity, MaxCapacity);

    /// <summary>A reader of the store was opened: one more group may be kept.</summary>
    public void AddReader()
    {
        lock (_recent)
        {
            _readers++;
        }
    }

    /// <summary>A reader was closed: the groups beyond the smaller capacity leave now, giving their memory back.</summary>
    public void RemoveReader()
    {
        lock (_recent)
        {
            _readers--;
            while (_recent.Count > CapacityLocked)
            {
                Evict(_recent.Last!);
            }
        }
    }

    /// <summary>A buffer for a group of <paramref name="rawLength"/> bytes being decompressed (<see cref="DecodedGroup.Raw"/>).</summary>
    public static byte[] RentBuffer(int rawLength) => Buffers.Rent(rawLength);

    /// <summary>Gives back a buffer that did not become a group (its decompression failed).</summary>
    public static void ReturnBuffer(byte[] buffer) => Buffers.Return(buffer);

    /// <summary>
    /// The group at <paramref name="offset"/> of <paramref name="pack"/>, read and decompressed
    /// by <paramref name="load"/> when not kept; its bytes stay valid until the lease is disposed.
    /// </summary>
    public async ValueTask<Lease> GetAsync(string pack, long offset, Func<Task<DecodedGroup>> load)
    {
        Entry entry;
        lock (_recent)
        {
            var node = _recent.First;
            while (node is not null && !(node.Value.Offset == offset && node.Value.Pack == pack))
            {
                node = node.Next;
            }

            if (node is null)
            {
                node = new(new Entry(pack, offset, new Lazy<Task<DecodedGroup>>(load, LazyThreadSafetyMode.ExecutionAndPublication)));
                _decompressions++; // a new entry's group is decompressed once, by its first reader
                while (_recent.Count >= CapacityLocked)
                {
                    Evict(_recent.Last!);
                }
            }
            else
            {
                _recent.Remove(node);
            }

            _recent.AddFirst(node);
            entry = node.Value;
            entry.Users++;
        }

        try
        {
            var group = await entry.Group.Value.ConfigureAwait(false);
            lock (_recent)
            {
                // Kept where eviction finds it without waiting on the task (Users > 0 until then).
                entry.Raw ??= group.Raw;
            }

            return new Lease(this, entry, group);
        }
        catch
        {
            // A damaged group is not kept: the next reader tries again and reports it too.
            lock (_recent)
            {
                entry.Users--;
                var node = _recent.Find(entry);
                if (node is not null)
                {
                    Evict(node);
                }
            }

            throw;
        }
    }

    /// <summary>Takes an entry out; its buffer goes back now, or when its last reader is done.</summary>
    private void Evict(LinkedListNode<Entry> node)
    {
        _recent.Remove(node);
        node.Value.Evicted = true;
        GiveBackWhenUnused(node.Value);
    }

    private static void GiveBackWhenUnused(Entry entry)
    {
        if (entry.Evicted && entry.Users == 0 && entry.Raw is { } raw && !entry.Returned)
        {
            entry.Returned = true;
            Buffers.Return(raw);
        }
    }

    private void Release(Entry entry)
    {
        lock (_recent)
        {
            entry.Users--;
            GiveBackWhenUnused(entry);
        }
    }

    internal sealed class Entry(string pack, long offset, Lazy<Task<DecodedGroup>> group)
    {
        public string Pack { get; } = pack;

        public long Offset { get; } = offset;

        /// <summary>Started by the first reader to ask; the others await the same load.</summary>
        public Lazy<Task<DecodedGroup>> Group { get; } = group;

        /// <summary>The decompressed bytes' pooled buffer, once a reader has the group.</summary>
        public byte[]? Raw { get; set; }

        public int Users { get; set; }

        public bool Evicted { get; set; }

        public bool Returned { get; set; }
    }

    /// <summary>A reader's hold on a decompressed group: its bytes are not reused until disposed.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly GroupCache _cache;
        private readonly Entry _entry;

        internal Lease(GroupCache cache, Entry entry, DecodedGroup group)
        {
            _cache = cache;
            _entry = entry;
            Group = group;
        }

        public DecodedGroup Group { get; }

        public void Dispose() => _cache.Release(_entry);
    }
}

/// <summary>
/// A decompressed compression group: its member table and its raw bytes (the first
/// <see cref="PackGroup.RawLength"/> bytes of <see cref="Raw"/>, a pooled buffer; never changed once made).
/// </summary>
internal sealed record DecodedGroup(PackGroup Table, byte[] Raw);
