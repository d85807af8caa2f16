using System.Threading.Channels;

namespace Cradle.ActiveSync.Rapi;

/// <summary>
/// A device's RAPI sessions shared by work that runs at once (listings of several folders, reads
/// of several files). Each session is lent to at most <c>usesPerSession</c> callers at a time, so
/// at most <c>Sessions.Count × usesPerSession</c> pieces of work are in progress: the bound on
/// what a backup holds in memory, and what keeps a link with a long reply time full (a session
/// answers its calls in order; several sessions are answered side by side, as DCCM allows).
/// </summary>
public sealed class RapiSessionPool
{
    private readonly Channel<RapiClient> _free;

    public RapiSessionPool(IReadOnlyList<RapiClient> sessions, int usesPerSession = 2)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentOutOfRangeException.ThrowIfZero(sessions.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(usesPerSession, 1);
        Sessions = sessions;
        Capacity = sessions.Count * usesPerSession;
        _free = Channel.CreateBounded<RapiClient>(Capacity);
        for (var use = 0; use < usesPerSession; use++)
        {
            foreach (var session in sessions)
            {
                _free.Writer.TryWrite(session);
            }
        }
    }

    public IReadOnlyList<RapiClient> Sessions { get; }

    /// <summary>How many callers may hold a session at once.</summary>
    public int Capacity { get; }

    /// <summary>Waits for a session; dispose the lease to give it back.</summary>
    public async ValueTask<Lease> RentAsync(CancellationToken cancellationToken)
    {
        var session = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(this, session);
    }

    /// <summary>One caller's use of a session.</summary>
    public readonly struct Lease(RapiSessionPool pool, RapiClient rapi) : IDisposable
    {
        public RapiClient Rapi { get; } = rapi;

        public void Dispose() => pool._free.Writer.TryWrite(Rapi);
    }
}
