using Cradle.Protocol;

namespace Cradle.Host;

/// <summary>
/// How much one session and the whole host may hold for devices: the chunks a device was asked
/// for and has not sent yet (its owed set: 32-byte ids in a set, about 60 bytes each), and how
/// fast chunk ids may be looked up (each query of 4,096 ids is a catalog statement). Without
/// them a partnered device could grow the host by gigabytes with queries of fresh ids it never
/// sends, or keep the catalog busy with lookups (issue 19).
/// </summary>
public sealed record SessionLimits
{
    /// <summary>
    /// Most chunks one session may owe at once. A device of this build re-reads the files behind
    /// its owed chunks once it owes <c>DeviceOptions.OwedBeforeReread</c> (16,384), so with two
    /// queries of 2,048 in flight it stays far below; a session past it is refused.
    /// </summary>
    public int MaxOwedPerSession { get; init; } = WireLimits.DefaultMaxOwedPerSession;

    /// <summary>Most chunks all sessions together may owe (about 64 MiB of ids at most); a session that would pass it is told to try again.</summary>
    public int MaxOwedPerHost { get; init; } = 1_048_576;

    /// <summary>Most partnership requests from one address waiting for the operator; a newer one withdraws the oldest.</summary>
    public int MaxPendingPerAddress { get; init; } = 4;

    /// <summary>Most partnership requests waiting for the operator in all; a newer one withdraws the oldest.</summary>
    public int MaxPendingTotal { get; init; } = 64;

    /// <summary>
    /// Most connections not yet authenticated (in their handshake, waiting for approval, or guests)
    /// at once; further ones are closed at once. The host lowers it to half of its open-file limit
    /// (less the reserve), so that strangers can never take the descriptors the partnered devices'
    /// sessions need for the store.
    /// </summary>
    public int MaxUnauthenticated { get; init; } = 1024;

    /// <summary>Chunk ids one session may have looked up per second, on average.</summary>
    public double QueryIdsPerSecond { get; init; } = 100_000;

    /// <summary>Chunk ids one session may look up at once before the average applies (a 100,000-file device's unchanged files go through without waiting).</summary>
    public double QueryIdsBurst { get; init; } = 200_000;

    /// <summary>Chunk ids all sessions together may look up per second.</summary>
    public double HostQueryIdsPerSecond { get; init; } = 400_000;

    /// <summary>Chunk ids all sessions together may look up at once before the average applies.</summary>
    public double HostQueryIdsBurst { get; init; } = 800_000;
}

/// <summary>The host-wide count of owed chunks (<see cref="SessionLimits.MaxOwedPerHost"/>), shared by every session.</summary>
internal sealed class OwedBudget(int limit)
{
    private long _owed;

    public long Owed => Interlocked.Read(ref _owed);

    /// <summary>Takes <paramref name="count"/> from the budget; false (and nothing taken) when that would pass the limit.</summary>
    public bool TryTake(int count)
    {
        while (true)
        {
            var now = Interlocked.Read(ref _owed);
            if (now + count > limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _owed, now + count, now) == now)
            {
                return true;
            }
        }
    }

    public void Give(int count) => Interlocked.Add(ref _owed, -count);
}

/// <summary>
/// A token bucket over a <see cref="TimeProvider"/>: <see cref="TakeAsync"/> waits until the
/// bucket holds what it takes, so a session over its rate is slowed down, not refused (an honest
/// device at worst waits; a scanner cannot go faster).
/// </summary>
internal sealed class QueryRate
{
    private readonly Lock _lock = new();
    private readonly double _perSecond;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _stamp;

    public QueryRate(double perSecond, double burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _perSecond = perSecond;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _stamp = time.GetTimestamp();
    }

    /// <summary>Takes <paramref name="count"/> tokens (at most a burst's worth is asked at once), waiting for them as needed.</summary>
    public async ValueTask TakeAsync(double count, CancellationToken cancellationToken)
    {
        var wait = Reserve(count);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the tokens now (the balance may go below zero) and says how long until they are covered.</summary>
    internal TimeSpan Reserve(double count)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_stamp, now).TotalSeconds * _perSecond));
            _stamp = now;
            _tokens -= Math.Min(count, _burst);
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _perSecond);
        }
    }
}
