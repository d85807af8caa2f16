using System.Net;
using Cradle.Store;
using Microsoft.Extensions.Logging;

namespace Cradle.Host;

/// <summary>
/// The partnerships waiting for the operator, in this process: bounded per source address and
/// in total (the oldest is dropped for a new one), each ended the moment its device leaves, and
/// watched by one loop with one database connection (a session waiting for approval holds its
/// socket and nothing else). The rows in the <c>pending</c> table are how another process
/// (<c>cradle host approve</c>) sees and decides them, and learns what the host then did.
/// Before issue 19 each waiting session held a connection of its own for 5 minutes: a thousand
/// requests that hung up at once held 3,230 descriptors and took the host down.
/// </summary>
public sealed class ApprovalBoard : IAsyncDisposable
{
    /// <summary>How often the waiting requests are compared with the operator's decisions in the database.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How often wrong codes are looked for while no request waits.</summary>
    public static readonly TimeSpan IdlePollInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long an ended request stays in the database for <c>host approve</c> to report on.</summary>
    public static readonly TimeSpan KeepEnded = TimeSpan.FromMinutes(10);

    private readonly CatalogDatabase _database;
    private readonly HostOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<Request> _waiting = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _watch = Task.CompletedTask;
    private (int Count, DateTimeOffset? LockedUntil) _wrongCodesSeen;

    internal ApprovalBoard(CatalogDatabase database, HostOptions options, ILogger logger)
    {
        _database = database;
        _options = options;
        _logger = logger;
    }

    /// <summary>Requests waiting now.</summary>
    public int Count
    {
        get { lock (_lock) { return _waiting.Count; } }
    }

    /// <summary>
    /// Puts a request on the board (and in the database); null when another request already waits
    /// under the same code (one in a million: the device tries again). Older requests from the
    /// same address, or the oldest of all, end here when the board is full.
    /// </summary>
    internal Request? Add(string code, string device, uint number, string remote)
    {
        var request = new Request(code, device, number, remote, SourceOf(remote), _options.Time.GetUtcNow());
        using (var registry = PartnershipRegistry.Open(_database, _options.Time))
        {
            if (!registry.Add(new PendingPartnership(code, device, number, remote, request.Created, PendingState.Waiting)))
            {
                return null;
            }
        }

        var dropped = new List<Request>();
        lock (_lock)
        {
            var limits = _options.Limits;
            var fromThere = _waiting.Where(r => r.Source == request.Source).ToList();
            dropped.AddRange(fromThere.Take(Math.Max(0, fromThere.Count - limits.MaxPendingPerAddress + 1)));
            var others = _waiting.Except(dropped).ToList();
            dropped.AddRange(others.Take(Math.Max(0, others.Count - limits.MaxPendingTotal + 1)));
            foreach (var old in dropped)
            {
                _waiting.Remove(old);
            }

            _waiting.Add(request);
        }

        Start();

        foreach (var old in dropped)
        {
            var why = old.Source == request.Source
                ? $"more than {_options.Limits.MaxPendingPerAddress} partnership requests came from {old.Source}; the oldest was withdrawn; nothing was created"
                : $"more than {_options.Limits.MaxPendingTotal} partnership requests wait on this host; the oldest was withdrawn; nothing was created";
            HostLog.PendingDropped(_logger, old.Remote, old.Device, old.Code, why);
            End(old, PendingState.Gone, why);
            old.Decide(PendingState.Gone, why);
        }

        return request;
    }

    /// <summary>The host's last word on a request (it leaves the board; the row keeps the outcome a while).</summary>
    internal void End(Request request, PendingState state, string outcome)
    {
        lock (_lock)
        {
            _waiting.Remove(request);
        }

        using var registry = PartnershipRegistry.Open(_database, _options.Time);
        registry.End(request.Code, state, Protocol.WireText.Clean(outcome), _options.Time.GetUtcNow());
    }

    /// <summary>The address part of a session's remote end point (requests are counted per address, not per port).</summary>
    private static string SourceOf(string remote) =>
        IPEndPoint.TryParse(remote, out var endPoint) ? endPoint.Address.ToString() : remote;

    /// <summary>Starts watching: the operator's decisions while requests wait, wrong codes always (the log tells of them).</summary>
    internal void Start()
    {
        lock (_lock)
        {
            if (_watch.IsCompleted)
            {
                _watch = WatchAsync(_stopping.Token);
            }
        }
    }

    /// <summary>
    /// Compares the waiting requests with the database every <see cref="PollInterval"/> while any
    /// wait; looks for wrong codes (and tidies old rows) every <see cref="IdlePollInterval"/> when none do.
    /// </summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        // Leave the caller's lock at once.
        await Task.Yield();
        var idleTicks = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            List<Request> waiting;
            lock (_lock)
            {
                waiting = [.. _waiting];
            }

            if (waiting.Count > 0 || idleTicks++ % (IdlePollInterval.Ticks / PollInterval.Ticks) == 0)
            {
                try
                {
                    Poll(waiting);
                }
                catch (Exception e) when (e is System.Data.Common.DbException or CatalogUnavailableException)
                {
                    // The database is busy or away for a moment: the requests keep waiting; their own timeouts still run.
                    HostLog.ApprovalsUnreadable(_logger, e.Message);
                }
            }

            try
            {
                await Task.Delay(PollInterval, _options.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Poll(List<Request> waiting)
    {
        using var registry = PartnershipRegistry.Open(_database, _options.Time);
        foreach (var (code, state) in waiting.Count == 0 ? [] : registry.Decided(waiting.Select(r => r.Code).ToList()))
        {
            var request = waiting.First(r => r.Code == code);
            request.Decide(state ?? PendingState.Gone, state is null ? "the request was withdrawn on the host; nothing was created" : null);
        }

        var now = _options.Time.GetUtcNow();
        registry.Expire(now - KeepEnded, now - _options.ApprovalTimeout - TimeSpan.FromMinutes(1));
        var wrong = registry.WrongCodes();
        if (wrong.Count != _wrongCodesSeen.Count || wrong.LockedUntil != _wrongCodesSeen.LockedUntil)
        {
            _wrongCodesSeen = (wrong.Count, wrong.LockedUntil);
            if (wrong.Count > 0)
            {
                HostLog.WrongApprovalCodes(_logger, wrong.Count, PendingApprovals.WrongCodeWindow.TotalMinutes, wrong.LockedUntil?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "not locked");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task watch;
        lock (_lock)
        {
            watch = _watch;
        }

        await watch.ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>One waiting request; <see cref="Decision"/> completes with the operator's decision or with its end.</summary>
    internal sealed class Request(string code, string device, uint number, string remote, string source, DateTimeOffset created)
    {
        private readonly TaskCompletionSource<(PendingState State, string? Why)> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Code { get; } = code;
        public string Device { get; } = device;
        public uint Number { get; } = number;
        public string Remote { get; } = remote;
        public string Source { get; } = source;
        public DateTimeOffset Created { get; } = created;

        public Task<(PendingState State, string? Why)> Decision => _decision.Task;

        public void Decide(PendingState state, string? why) => _decision.TrySetResult((state, why));
    }
}
