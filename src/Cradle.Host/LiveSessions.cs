namespace Cradle.Host;

/// <summary>
/// The sessions the host is serving now, and the last few that ended: what the dashboard shows
/// live. Sessions write their phase and progress here; readers take consistent copies
/// (<see cref="Snapshot"/>) and wait for the next change (<see cref="WaitForChangeAsync"/>).
/// </summary>
public sealed class LiveSessions(TimeProvider time)
{
    /// <summary>How many ended sessions are kept for the page.</summary>
    public const int EndedKept = 10;

    /// <summary>The window over which a transfer rate is measured.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<long, LiveSession> _live = [];
    private readonly LinkedList<SessionView> _ended = new();
    private long _nextId;
    private long _version;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Grows by one on every change.</summary>
    public long Version { get { lock (_lock) { return _version; } } }

    internal LiveSession Begin(string remote, string link)
    {
        lock (_lock)
        {
            var session = new LiveSession(this, ++_nextId, remote, link, time.GetUtcNow(), time);
            _live.Add(session.Id, session);
            ChangedLocked();
            return session;
        }
    }

    internal void Update(Action change)
    {
        lock (_lock)
        {
            change();
            ChangedLocked();
        }
    }

    internal void End(LiveSession session, string outcome)
    {
        lock (_lock)
        {
            if (!_live.Remove(session.Id))
            {
                return;
            }

            session.Phase = "ended";
            session.Outcome = outcome;
            _ended.AddFirst(session.View(time.GetUtcNow()));
            while (_ended.Count > EndedKept)
            {
                _ended.RemoveLast();
            }

            ChangedLocked();
        }
    }

    /// <summary>The live sessions (oldest first) and the ended ones (newest first), as of now.</summary>
    public SessionsView Snapshot()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            return new SessionsView(_version, [.. _live.Values.OrderBy(s => s.Id).Select(s => s.View(now))], [.. _ended]);
        }
    }

    /// <summary>Completes when anything changed after <paramref name="seen"/>, or when the token is cancelled.</summary>
    public async Task WaitForChangeAsync(long seen, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_lock)
        {
            if (_version != seen)
            {
                return;
            }

            changed = _changed.Task;
        }

        await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ChangedLocked()
    {
        _version++;
        var done = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.TrySetResult();
    }
}

/// <summary>One session as the board tracks it; changed only under the board's lock.</summary>
internal sealed class LiveSession(LiveSessions board, long id, string remote, string link, DateTimeOffset started, TimeProvider time)
{
    private readonly Queue<(DateTimeOffset Time, long Bytes)> _samples = new();

    public long Id { get; } = id;

    public string? Device { get; set; }

    public string Phase { get; set; } = "handshake";

    public string? Code { get; set; }

    public string? Outcome { get; set; }

    public long FilesDone { get; set; }

    public long FilesTotal { get; set; }

    public long BytesDone { get; set; }

    public long BytesTotal { get; set; }

    public DateTimeOffset? PhaseStarted { get; set; }

    public void SetDevice(string device) => board.Update(() => Device = device);

    public void SetPhase(string phase, string? code = null) => board.Update(() =>
    {
        Phase = phase;
        Code = code;
        PhaseStarted = time.GetUtcNow();
    });

    /// <summary>A transfer starts (backup or restore): the totals the device announced, nothing done yet.</summary>
    public void StartTransfer(string phase, long filesTotal, long bytesTotal) => board.Update(() =>
    {
        Phase = phase;
        Code = null;
        PhaseStarted = time.GetUtcNow();
        FilesDone = 0;
        BytesDone = 0;
        FilesTotal = filesTotal;
        BytesTotal = bytesTotal;
        _samples.Clear();
        _samples.Enqueue((time.GetUtcNow(), 0));
    });

    public void Progress(long filesDone, long bytesDone) => board.Update(() =>
    {
        FilesDone = filesDone;
        BytesDone = BytesTotal > 0 ? Math.Min(bytesDone, BytesTotal) : bytesDone;
        var now = time.GetUtcNow();
        _samples.Enqueue((now, BytesDone));
        while (_samples.Count > 2 && now - _samples.Peek().Time > LiveSessions.RateWindow)
        {
            _samples.Dequeue();
        }
    });

    public void End(string outcome) => board.End(this, outcome);

    /// <summary>Bytes per second over the last few seconds of the transfer; null before there are two samples.</summary>
    private double? Rate(DateTimeOffset now)
    {
        if (_samples.Count == 0 || Phase is not ("backing-up" or "restoring"))
        {
            return null;
        }

        var (firstTime, firstBytes) = _samples.Peek();
        var seconds = (now - firstTime).TotalSeconds;
        return seconds < 0.2 ? null : (BytesDone - firstBytes) / seconds;
    }

    public SessionView View(DateTimeOffset now)
    {
        var rate = Rate(now);
        double? eta = rate is > 0 && BytesTotal > 0 ? (BytesTotal - BytesDone) / rate.Value : null;
        return new SessionView(Id, remote, link, Device, Phase, Code, started, PhaseStarted, FilesDone, FilesTotal, BytesDone, BytesTotal,
            rate is { } r ? Math.Round(r) : null, eta is { } e ? Math.Round(e, 1) : null, Outcome);
    }
}

/// <summary>
/// A session as the dashboard shows it. Phases: handshake, waiting-approval (with its code),
/// connected (between backups), backing-up, committing, restoring, ended (with its outcome).
/// Rate in bytes per second and ETA in seconds are null when unknown.
/// </summary>
public sealed record SessionView(long Id, string Remote, string Link, string? Device, string Phase, string? Code, DateTimeOffset Started, DateTimeOffset? PhaseStarted,
    long FilesDone, long FilesTotal, long BytesDone, long BytesTotal, double? Rate, double? EtaSeconds, string? Outcome);

/// <summary>The board at one moment: <see cref="Version"/> grows with every change.</summary>
public sealed record SessionsView(long Version, List<SessionView> Live, List<SessionView> Ended);
