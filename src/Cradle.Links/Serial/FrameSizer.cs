namespace Cradle.Links.Serial;

/// <summary>
/// Chooses how many bytes the next data frame carries from the losses seen on the line: on a
/// clean line the largest frames (least framing), on a noisy one small frames, each of which
/// a bit error is less likely to hit and which cost little to send again.
/// </summary>
/// <remarks>
/// Every data frame sent ends delivered (acknowledged) or lost (sent again). From the recent
/// outcomes, weighted by an exponential memory of about <see cref="MemoryBytes"/> of line, the
/// sizer estimates β, the chance per line byte of ruining a frame (a flipped bit, a dropped
/// byte): a frame of L line bytes arrives with probability e^(−βL). The share of the line that
/// carries payload, p / (p + h) · e^(−β(p + h)) with h the bytes of framing, is largest at
/// p = (−h + √(h² + 4h/β)) / 2; that is the choice, between <see cref="MinPayload"/> and the
/// largest frame. At a bit error rate of 1e-5 (β ≈ 8e-5) that is about 450 bytes, at 1e-4
/// about 140; with no loss seen it is the largest. A session starts at <see cref="StartPayload"/>
/// and may double after every <see cref="FramesPerDoubling"/> frames delivered: frames cut large
/// before the first loss was seen would be lost again and again on a very noisy line (at 1e-4
/// four of five 2 KiB frames are), and a frame keeps its size when it is sent again.
/// </remarks>
public sealed class FrameSizer
{
    /// <summary>The smallest payload chosen: below it framing alone costs a fifth of the line.</summary>
    public const int MinPayload = 64;

    /// <summary>The largest payload of a session's first frames.</summary>
    public const int StartPayload = 256;

    /// <summary>Frames delivered before the largest payload allowed may double again.</summary>
    public const int FramesPerDoubling = 8;

    /// <summary>How much recent line traffic the estimate remembers.</summary>
    public const double MemoryBytes = 64 * 1024;

    /// <summary>Line bytes of a frame beyond its payload: header, CRC, the COBS code byte and the delimiter.</summary>
    public const int Framing = LinkFrame.HeaderLength + LinkFrame.CrcLength + 2;

    private readonly int _maxPayload;
    private double _frames;
    private double _lost;
    private double _bytes;
    private long _delivered;
    private int _ceiling;

    public FrameSizer(int maxPayload = LinkFrame.MaxPayload)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayload, MinPayload);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPayload, LinkFrame.MaxPayload);
        _maxPayload = maxPayload;
        _ceiling = Math.Min(StartPayload, maxPayload);
        Payload = _ceiling;
    }

    /// <summary>The payload of the next data frame.</summary>
    public int Payload { get; private set; }

    /// <summary>The estimated chance per line byte that it ruins its frame (0 when no loss was seen).</summary>
    public double LossPerByte { get; private set; }

    /// <summary>
    /// Records what became of one sent data frame of <paramref name="lineBytes"/> bytes on the
    /// line: delivered, or lost for certain (a frame sent after it arrived). Timeouts are no
    /// evidence: the frame or its acknowledgement may just be late.
    /// </summary>
    public void Record(int lineBytes, bool delivered)
    {
        var keep = Math.Exp(-lineBytes / MemoryBytes);
        _frames = (_frames * keep) + 1;
        _lost = (_lost * keep) + (delivered ? 0 : 1);
        _bytes = (_bytes * keep) + lineBytes;
        if (delivered && ++_delivered % FramesPerDoubling == 0 && _ceiling < _maxPayload)
        {
            _ceiling = Math.Min(_ceiling * 2, _maxPayload);
        }

        var lossRate = Math.Min(_lost / _frames, 0.99);
        LossPerByte = lossRate <= 0 ? 0 : -Math.Log(1 - lossRate) / (_bytes / _frames);
        Payload = Math.Min(BestPayload(LossPerByte, _maxPayload), _ceiling);
    }

    /// <summary>The payload that carries the most per line byte when each line byte ruins its frame with <paramref name="lossPerByte"/>.</summary>
    public static int BestPayload(double lossPerByte, int maxPayload = LinkFrame.MaxPayload)
    {
        if (lossPerByte <= 0)
        {
            return maxPayload;
        }

        var best = (-Framing + Math.Sqrt((Framing * (double)Framing) + (4 * Framing / lossPerByte))) / 2;
        return best >= maxPayload ? maxPayload : Math.Max(MinPayload, (int)best);
    }

    /// <summary>Line bytes of a frame carrying <paramref name="payload"/> bytes (COBS adds one byte per 254).</summary>
    public static int LineBytes(int payload) => Cobs.MaxEncodedLength(LinkFrame.HeaderLength + payload + LinkFrame.CrcLength) + 1;
}
