namespace Cradle.LineRelay;

/// <summary>
/// One way along the line, on a thread of its own as on a full-duplex cable: reads what one
/// program wrote to its slave from that pair's master, applies the line's faults and pace, and
/// writes the result to the other pair's master for the other program to read.
/// </summary>
/// <remarks>
/// When the receiving program stops reading and its slave's input buffer fills, the direction
/// holds bytes back rather than losing them, like a cable with RTS/CTS flow control; the sending
/// program then blocks in write once the kernel's buffers on its side fill too.
/// </remarks>
internal sealed class LineDirection
{
    private const int ChunkCapacity = 4096;

    // Short enough that Stop returns promptly, long enough that an idle relay costs nothing.
    private const int PollMilliseconds = 20;

    private static readonly TimeSpan SpeedCheckInterval = TimeSpan.FromMilliseconds(100);

    private readonly PseudoTerminal _from;
    private readonly PseudoTerminal _to;
    private readonly LineConditions _line;
    private readonly Random _random;
    private readonly LinePacer _pacer;
    private readonly Thread _thread;
    private readonly byte[] _pending = new byte[ChunkCapacity];
    private readonly byte[] _garbage = new byte[ChunkCapacity];

    private int _pendingStart;
    private int _pendingCount;
    private long _nextSpeedCheck;
    private int _checkedBaud = -1;
    private bool _speedsAgree = true;
    private volatile bool _stopping;
    private volatile Exception? _failure;

    private long _forwarded;
    private long _flipped;
    private long _dropped;
    private long _garbled;
    private long _discarded;

    public LineDirection(string name, PseudoTerminal from, PseudoTerminal to, LineConditions line, int seed)
    {
        Name = name;
        _from = from;
        _to = to;
        _line = line;
        _random = new Random(seed);
        _pacer = new LinePacer(line.Time);
        _thread = new Thread(Run) { IsBackground = true, Name = $"line relay {name}" };
    }

    public string Name { get; }

    /// <summary>Why the direction stopped on its own, or null while it runs.</summary>
    public Exception? Failure => _failure;

    public LineDirectionStats Stats => new(
        Interlocked.Read(ref _forwarded),
        Interlocked.Read(ref _flipped),
        Interlocked.Read(ref _dropped),
        Interlocked.Read(ref _garbled),
        Interlocked.Read(ref _discarded));

    public void Start() => _thread.Start();

    /// <summary>Stops the pump and waits for it, so the ptys can be closed under nobody.</summary>
    public void Stop()
    {
        _stopping = true;
        _thread.Join();
    }

    /// <summary>
    /// The garbage a receiver at the wrong baud reads instead of a byte: a deterministic function
    /// of the byte and its position in the stream that never gives the byte back unchanged.
    /// </summary>
    internal static byte Garble(byte value, long position)
    {
        var mask = (byte)(unchecked((ulong)position * 0x9E3779B97F4A7C15UL) >> 56 | 1);
        return (byte)(value ^ mask);
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                Step();
            }
        }
        catch (Exception e)
        {
            // Kept, not swallowed: SerialLineRelay.Stats rethrows it, so the test that reads the
            // counters learns why its bytes stopped coming.
            _failure = e;
        }
    }

    private void Step()
    {
        if (_pendingCount == 0)
        {
            Fill();
            return;
        }

        if (_line.Cut)
        {
            Interlocked.Add(ref _discarded, _pendingCount);
            _pendingCount = 0;
            return;
        }

        var baud = _line.LineBaud;
        if (_line.IsStalled)
        {
            _pacer.Restart(baud);
            Thread.Sleep(1);
            return;
        }

        var granted = _pacer.Grant(_pendingCount, baud);
        if (granted == 0)
        {
            Thread.Sleep(1);
            return;
        }

        var sent = Deliver(granted, baud);
        _pacer.Refund(granted - sent);
    }

    /// <summary>Takes the bytes that are waiting on the sending side onto the line.</summary>
    private void Fill()
    {
        if (!WaitFor(_from, Libc.PollIn))
        {
            return;
        }

        var read = Libc.Read(_from.Master, _pending);
        if (read < 0)
        {
            var errno = Libc.LastErrno();
            switch (errno)
            {
                case Libc.Eintr or Libc.Eagain:
                    return;
                case Libc.Eio:
                    // No slave open at all; the relay's own slave descriptor rules that out, so
                    // this is a pty being torn down. Wait rather than spin.
                    Thread.Sleep(10);
                    return;
                default:
                    throw Libc.Error($"read from {_from.SlavePath}'s master", errno);
            }
        }

        var count = (int)read;
        if (_line.Cut)
        {
            Interlocked.Add(ref _discarded, count);
            return;
        }

        _pendingStart = 0;
        _pendingCount = ApplyFaults(count);
        if (_pendingCount > 0)
        {
            // The line stood idle until now; the wait must not buy a burst.
            _pacer.Restart(_line.LineBaud);
        }
    }

    /// <summary>Drops and bit flips, in place; returns how many bytes survive.</summary>
    private int ApplyFaults(int count)
    {
        var dropRate = _line.DropRate;
        var bitErrorRate = _line.BitErrorRate;
        if (dropRate == 0 && bitErrorRate == 0)
        {
            return count;
        }

        var kept = 0;
        long flipped = 0;
        for (var i = 0; i < count; i++)
        {
            if (dropRate > 0 && _random.NextDouble() < dropRate)
            {
                continue;
            }

            var value = _pending[i];
            if (bitErrorRate > 0)
            {
                for (var bit = 0; bit < 8; bit++)
                {
                    if (_random.NextDouble() < bitErrorRate)
                    {
                        value ^= (byte)(1 << bit);
                        flipped++;
                    }
                }
            }

            _pending[kept++] = value;
        }

        Interlocked.Add(ref _dropped, count - kept);
        Interlocked.Add(ref _flipped, flipped);
        return kept;
    }

    /// <summary>Writes up to <paramref name="granted"/> waiting bytes to the receiving side; returns how many it took.</summary>
    private int Deliver(int granted, int baud)
    {
        var chunk = _pending.AsSpan(_pendingStart, granted);
        var garble = !SpeedsAgree(baud);
        if (garble)
        {
            // Into a copy: bytes the receiver does not take now are garbled afresh, by the same
            // positions, when they go.
            var position = Interlocked.Read(ref _forwarded);
            for (var i = 0; i < granted; i++)
            {
                _garbage[i] = Garble(chunk[i], position + i);
            }

            chunk = _garbage.AsSpan(0, granted);
        }

        var written = Libc.Write(_to.Master, chunk);
        if (written < 0)
        {
            var errno = Libc.LastErrno();
            if (errno == Libc.Eagain)
            {
                // The receiver's buffer is full: hold until it reads.
                WaitFor(_to, Libc.PollOut);
                return 0;
            }

            if (errno == Libc.Eintr)
            {
                return 0;
            }

            throw Libc.Error($"write to {_to.SlavePath}'s master", errno);
        }

        var sent = (int)written;
        _pendingStart += sent;
        _pendingCount -= sent;
        Interlocked.Add(ref _forwarded, sent);
        if (garble)
        {
            Interlocked.Add(ref _garbled, sent);
        }

        return sent;
    }

    /// <summary>
    /// Whether the sender's output speed and the receiver's input speed both equal the line's.
    /// tcgetattr on a pty master reads the slave's termios, i.e. what each program set; it is
    /// re-read every 100 ms, not per byte.
    /// </summary>
    private bool SpeedsAgree(int baud)
    {
        if (!_line.EmulateBaudMismatch)
        {
            return true;
        }

        var now = _line.Time.GetTimestamp();
        if (now >= _nextSpeedCheck || baud != _checkedBaud)
        {
            _nextSpeedCheck = now + (long)(SpeedCheckInterval.TotalSeconds * _line.Time.TimestampFrequency);
            _checkedBaud = baud;
            _speedsAgree = TerminalSpeed.TryGetConstant(baud, out var lineSpeed)
                && Libc.CfGetOSpeed(TerminalSpeed.Read(_from.Master)) == lineSpeed
                && Libc.CfGetISpeed(TerminalSpeed.Read(_to.Master)) == lineSpeed;
        }

        return _speedsAgree;
    }

    /// <summary>Waits up to a poll interval for <paramref name="events"/> on a pair's master.</summary>
    private static bool WaitFor(PseudoTerminal terminal, short events)
    {
        // The raw descriptor is safe to use: the relay stops this thread before it closes the ptys.
        var poll = new Libc.PollFd { Fd = (int)terminal.Master.DangerousGetHandle(), Events = events };
        var ready = Libc.Poll(ref poll, 1, PollMilliseconds);
        if (ready < 0)
        {
            var errno = Libc.LastErrno();
            return errno == Libc.Eintr ? false : throw Libc.Error("poll", errno);
        }

        if (ready == 0)
        {
            return false;
        }

        if ((poll.ReturnedEvents & Libc.PollNval) != 0)
        {
            throw new IOException($"poll: {terminal.SlavePath}'s master is not open");
        }

        if ((poll.ReturnedEvents & events) == 0)
        {
            // Hang-up or error without data: a slave being torn down. Wait rather than spin.
            Thread.Sleep(10);
            return false;
        }

        return true;
    }
}
