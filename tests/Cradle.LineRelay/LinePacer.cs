namespace Cradle.LineRelay;

/// <summary>
/// A token bucket that lets bytes onto the line at baud/10 per second (8N1: a start bit, 8 data
/// bits, a stop bit). Credit only accrues while the line is busy, so an idle or held line does
/// not bank a burst: after a pause the next byte goes at once and the rest follow at line rate.
/// </summary>
internal sealed class LinePacer(TimeProvider time)
{
    private const int BitsPerByte = 10;

    private double _credit = 1;
    private long _last = time.GetTimestamp();

    /// <summary>The line is idle or held right now: from here on it is free for one byte, no more.</summary>
    public void Restart(int baud)
    {
        _credit = Math.Min(_credit + Gained(baud), 1);
    }

    /// <summary>How many of <paramref name="wanted"/> bytes the line has carried by now.</summary>
    public int Grant(int wanted, int baud)
    {
        if (baud == 0)
        {
            Restart(baud);
            return wanted;
        }

        // Credit beyond what is waiting would be time the line stood idle, which buys nothing later.
        _credit = Math.Min(_credit + Gained(baud), Math.Max(1, wanted));
        var granted = (int)Math.Min(wanted, Math.Floor(_credit));
        _credit -= granted;
        return granted;
    }

    /// <summary>Gives back bytes granted but not sent (the receiving side's buffer was full).</summary>
    public void Refund(int bytes) => _credit += bytes;

    private double Gained(int baud)
    {
        var now = time.GetTimestamp();
        var seconds = (double)(now - _last) / time.TimestampFrequency;
        _last = now;
        return seconds * baud / BitsPerByte;
    }
}
