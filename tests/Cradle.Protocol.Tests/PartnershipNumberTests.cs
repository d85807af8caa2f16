using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

public class PartnershipNumberTests
{
    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFFFFFFu)]
    public void P2_number_0_and_FFFFFFFF_are_refused(uint value)
    {
        Assert.False(PartnershipNumber.IsValid(value));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PartnershipNumber(value));
        Assert.Contains("never 0 or 0xFFFFFFFF", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(0x12345678u)]
    [InlineData(0xFFFFFFFEu)]
    public void P2_other_numbers_are_accepted(uint value)
    {
        Assert.True(PartnershipNumber.IsValid(value));
        Assert.Equal(value, new PartnershipNumber(value).Value);
    }

    [Fact]
    public void P2_number_is_shown_as_8_uppercase_hex_digits()
    {
        Assert.Equal("00ABCDEF", new PartnershipNumber(0xABCDEF).ToString());
        Assert.Equal("FFFFFFFE", new PartnershipNumber(0xFFFFFFFE).ToString());
    }

    [Fact]
    public void P2_NewRandom_returns_valid_numbers_that_differ_from_taken_ones()
    {
        // The generator draws from 2^32 values, so a collision with a handful of taken numbers
        // cannot be provoked from outside; this checks the contract over many draws and that
        // the taken numbers are consulted at all (see the probe below).
        var taken = new uint[] { 0x11111111, 0x22222222 };
        var seen = new HashSet<uint>();
        for (var i = 0; i < 10_000; i++)
        {
            var number = PartnershipNumber.NewRandom(taken);
            Assert.True(PartnershipNumber.IsValid(number.Value));
            Assert.DoesNotContain(number.Value, taken);
            seen.Add(number.Value);
        }

        // Random, not a counter or a constant: 10,000 draws of 32 bits are (nearly) all distinct.
        Assert.True(seen.Count > 9_990, $"only {seen.Count} distinct numbers in 10,000 draws");
    }

    [Fact]
    public void P2_NewRandom_reads_every_taken_number()
    {
        var probe = new CountingSequence([5, 6, 7]);
        PartnershipNumber.NewRandom(probe);
        Assert.Equal(3, probe.Yielded);
    }

    private sealed class CountingSequence(uint[] values) : IEnumerable<uint>
    {
        public int Yielded { get; private set; }

        public IEnumerator<uint> GetEnumerator()
        {
            foreach (var v in values)
            {
                Yielded++;
                yield return v;
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
