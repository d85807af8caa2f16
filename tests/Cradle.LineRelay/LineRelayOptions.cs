namespace Cradle.LineRelay;

/// <summary>How a <see cref="SerialLineRelay"/> starts; every setting but the seed can change while it runs.</summary>
/// <param name="LineBaud">The line's speed: it carries <c>LineBaud / 10</c> bytes per second each way (8N1); 0 = as fast as the ptys go.</param>
/// <param name="BitErrorRate">The probability that each bit in transit is flipped, independently.</param>
/// <param name="DropRate">The probability that each byte in transit is lost.</param>
/// <param name="Seed">Seeds the faults, so a run can be repeated byte for byte.</param>
/// <param name="EmulateBaudMismatch">Deliver garbage while either program's termios speed differs from <paramref name="LineBaud"/>.</param>
public sealed record LineRelayOptions(
    int LineBaud = 0,
    double BitErrorRate = 0,
    double DropRate = 0,
    int Seed = 1,
    bool EmulateBaudMismatch = false)
{
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range, or the mismatch emulation has no standard line speed to compare with.</exception>
    public void Validate()
    {
        ValidateBaud(LineBaud, EmulateBaudMismatch);
        ValidateProbability(BitErrorRate, nameof(BitErrorRate));
        ValidateProbability(DropRate, nameof(DropRate));
    }

    internal static void ValidateBaud(int baud, bool emulateBaudMismatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baud, nameof(LineBaud));
        if (emulateBaudMismatch && !TerminalSpeed.IsStandard(baud))
        {
            throw new ArgumentOutOfRangeException(
                nameof(LineBaud), baud, "emulating a baud mismatch needs a line speed termios has a constant for (9600, 115200, …)");
        }
    }

    internal static void ValidateProbability(double value, string name)
    {
        if (!(value is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "a probability is between 0 and 1");
        }
    }
}
