using Cradle.Links.Serial;

namespace Cradle.Links.Tests.Serial;

public class CobsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(253)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(508)]
    [InlineData(1039)]
    public void Round_trips_and_never_emits_zero(int length)
    {
        var random = new Random(length);
        foreach (var fill in new Func<int, byte>[] { _ => 0, _ => 0x55, _ => (byte)random.Next(256), i => (byte)(i % 7 == 0 ? 0 : i % 256) })
        {
            var source = Enumerable.Range(0, length).Select(fill).ToArray();
            var encoded = new byte[Cobs.MaxEncodedLength(length)];
            var n = Cobs.Encode(source, encoded);
            Assert.DoesNotContain((byte)0, encoded.AsSpan(0, n).ToArray());
            var decoded = new byte[length];
            Assert.True(Cobs.TryDecode(encoded.AsSpan(0, n), decoded, out var written));
            Assert.Equal(source, decoded.AsSpan(0, written).ToArray());
        }
    }

    [Fact]
    public void Known_encoding()
    {
        var encoded = new byte[8];
        var n = Cobs.Encode([0x11, 0x22, 0x00, 0x33], encoded);
        Assert.Equal(new byte[] { 0x03, 0x11, 0x22, 0x02, 0x33 }, encoded.AsSpan(0, n).ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0x03, 0x11 })] // block runs past the end
    [InlineData(new byte[] { 0x03, 0x11, 0x00 })] // zero inside
    [InlineData(new byte[] { 0x00 })]
    public void Rejects_what_is_not_cobs(byte[] encoded)
    {
        Assert.False(Cobs.TryDecode(encoded, new byte[16], out _));
    }
}
