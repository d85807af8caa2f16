namespace Cradle.LineRelay;

/// <summary>
/// The state of the line, shared by both directions: set from any thread, read by the pumps
/// once per chunk of bytes.
/// </summary>
internal sealed class LineConditions(LineRelayOptions options, TimeProvider time)
{
    private int _lineBaud = options.LineBaud;
    private double _bitErrorRate = options.BitErrorRate;
    private double _dropRate = options.DropRate;
    private volatile bool _cut;
    private volatile bool _emulateBaudMismatch = options.EmulateBaudMismatch;
    private long _stalledUntil = time.GetTimestamp();

    public TimeProvider Time { get; } = time;

    public int LineBaud
    {
        get => Volatile.Read(ref _lineBaud);
        set => Volatile.Write(ref _lineBaud, value);
    }

    public double BitErrorRate
    {
        get => Volatile.Read(ref _bitErrorRate);
        set => Volatile.Write(ref _bitErrorRate, value);
    }

    public double DropRate
    {
        get => Volatile.Read(ref _dropRate);
        set => Volatile.Write(ref _dropRate, value);
    }

    public bool Cut
    {
        get => _cut;
        set => _cut = value;
    }

    public bool EmulateBaudMismatch
    {
        get => _emulateBaudMismatch;
        set => _emulateBaudMismatch = value;
    }

    public bool IsStalled => Time.GetTimestamp() < Interlocked.Read(ref _stalledUntil);

    /// <summary>Holds the line until now + <paramref name="duration"/>, or longer if a stall already runs past that.</summary>
    public void Stall(TimeSpan duration)
    {
        var until = checked(Time.GetTimestamp() + (long)(duration.TotalSeconds * Time.TimestampFrequency));
        var seen = Interlocked.Read(ref _stalledUntil);
        while (seen < until)
        {
            var previous = Interlocked.CompareExchange(ref _stalledUntil, until, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
