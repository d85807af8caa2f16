using System.Security.Cryptography;

namespace Cradle.Protocol;

/// <summary>
/// The random 32-bit number of a partnership (rule P2): never 0, never 0xFFFFFFFF.
/// The number names a partnership; it never proves one (the secret does).
/// </summary>
public readonly record struct PartnershipNumber
{
    public PartnershipNumber(uint value)
    {
        if (!IsValid(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "a partnership number is never 0 or 0xFFFFFFFF");
        }

        Value = value;
    }

    public uint Value { get; }

    public static bool IsValid(uint value) => value is not 0 and not uint.MaxValue;

    /// <summary>A fresh random number that differs from every number in <paramref name="taken"/> (P2).</summary>
    public static PartnershipNumber NewRandom(IEnumerable<uint> taken)
    {
        var avoid = taken.ToHashSet();
        while (true)
        {
            var candidate = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));
            if (IsValid(candidate) && !avoid.Contains(candidate))
            {
                return new PartnershipNumber(candidate);
            }
        }
    }

    /// <summary>Shown as 8 hex digits, the way a person reads it off both screens.</summary>
    public override string ToString() => Value.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
}
