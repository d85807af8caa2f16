using Cradle.Protocol;

namespace Cradle.Store;

/// <summary>
/// A session's lease on the store (<see cref="Catalog"/>'s leases table): held by every backup,
/// restore, check and download while it reads or writes chunks, on whichever host it runs, and
/// renewed every minute. Prune deletes nothing marked at or after the epoch of a live lease
/// (scale.md). A lease not renewed for <see cref="Timeout"/> belongs to a process that died; it
/// stops holding anything back, and its session can no longer commit.
/// </summary>
internal sealed class StoreLease : IDisposable
{
    /// <summary>How long a lease lives without renewal.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>How often a holder renews.</summary>
    public static readonly TimeSpan RenewEvery = TimeSpan.FromMinutes(1);

    private readonly ChunkStore _store;
    private readonly ITimer _renewal;
    private int _released;

    private StoreLease(ChunkStore store, long id, long epoch)
    {
        _store = store;
        Id = id;
        Epoch = epoch;
        _renewal = store.Time.CreateTimer(_ => Renew(), null, RenewEvery, RenewEvery);
    }

    public long Id { get; }

    /// <summary>The epoch the session began in.</summary>
    public long Epoch { get; }

    /// <summary>Who holds leases from this process: "machine:pid" (shown by prune when it waits).</summary>
    public static string Holder { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>
    /// True when <paramref name="holder"/> names a process of this machine that no longer runs:
    /// its leases and locks hold nothing back (the kernel would have dropped its file locks the
    /// same way). A holder on another machine is dead only when it stops renewing.
    /// </summary>
    public static bool IsDeadLocalHolder(string holder)
    {
        var parts = holder.Split(':');
        if (parts.Length < 2 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }

        if (pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    public static StoreLease Take(ChunkStore store, string kind)
    {
        using var catalog = store.OpenCatalog();
        var (id, epoch) = catalog.TakeLease(Holder, kind, store.Time.GetUtcNow().ToUnixTimeMilliseconds());
        return new StoreLease(store, id, epoch);
    }

    /// <summary>When the catalog cannot be reached, the next renewal tries again, and a commit checks the lease itself.</summary>
    private void Renew() => TryWithCatalog(_store, c => c.RenewLease(Id, _store.Time.GetUtcNow().ToUnixTimeMilliseconds()));

    /// <summary>
    /// Runs <paramref name="action"/> on a connection of its own, giving up quietly when the
    /// catalog cannot be reached: for renewals and releases, which a lease's timeout backs up.
    /// </summary>
    internal static void TryWithCatalog(ChunkStore store, Action<Catalog> action)
    {
        try
        {
            using var catalog = store.OpenCatalog();
            action(catalog);
        }
        catch (Exception e) when (e is CradleException or System.Data.Common.DbException or IOException)
        {
            // Expires by itself.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        _renewal.Dispose();
        TryWithCatalog(_store, c => c.ReleaseLease(Id)); // unreleased, the lease expires by itself
    }
}

/// <summary>
/// A named lock in the catalog for maintenance that must not run twice at once across the hosts
/// sharing it (prune). Renewed while held; a holder that died loses it after <see cref="StoreLease.Timeout"/>.
/// </summary>
internal sealed class MaintenanceLock : IDisposable
{
    private readonly ChunkStore _store;
    private readonly string _name;
    private readonly string _holder;
    private readonly ITimer _renewal;

    private MaintenanceLock(ChunkStore store, string name, string holder)
    {
        _store = store;
        _name = name;
        _holder = holder;
        _renewal = store.Time.CreateTimer(_ => Renew(), null, StoreLease.RenewEvery, StoreLease.RenewEvery);
    }

    /// <summary>Takes the lock, waiting up to <paramref name="wait"/> while another holder has it.</summary>
    internal static async Task<MaintenanceLock> AcquireAsync(ChunkStore store, string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        // Unique per acquisition: two prunes in one process exclude each other too.
        var holder = $"{StoreLease.Holder}:{Guid.NewGuid():N}";
        var started = store.Time.GetTimestamp();
        while (true)
        {
            using (var catalog = store.OpenCatalog())
            {
                var now = store.Time.GetUtcNow().ToUnixTimeMilliseconds();
                if (catalog.TryTakeMaintenance(name, holder, now, StoreLease.Timeout))
                {
                    return new MaintenanceLock(store, name, holder);
                }

                // Held by a process of this machine that was killed: take it over at once.
                if (catalog.MaintenanceHolder(name) is { } current && StoreLease.IsDeadLocalHolder(current) && catalog.TakeOverMaintenance(name, current, holder, now))
                {
                    return new MaintenanceLock(store, name, holder);
                }

                if (store.Time.GetElapsedTime(started) >= wait)
                {
                    var other = catalog.MaintenanceHolder(name) ?? "?";
                    throw new CradleException($"another {name} is running on this store (held by {other[..Math.Min(other.Length, other.LastIndexOf(':') is var i and > 0 ? i : other.Length)]}); try again when it has finished (waited {wait.TotalSeconds:0} s)", isTransient: true);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), store.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Renew() =>
        StoreLease.TryWithCatalog(_store, c => c.TryTakeMaintenance(_name, _holder, _store.Time.GetUtcNow().ToUnixTimeMilliseconds(), StoreLease.Timeout));

    public void Dispose()
    {
        _renewal.Dispose();
        StoreLease.TryWithCatalog(_store, c => c.ReleaseMaintenance(_name, _holder));
    }
}
