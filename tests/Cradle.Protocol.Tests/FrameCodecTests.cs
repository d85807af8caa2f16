using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

public class FrameCodecTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(300)]
    [InlineData(65_536)]
    [InlineData(FrameCodec.MaxPayloadLength)]
    public void Header_round_trips(int length)
    {
        var header = new byte[FrameCodec.HeaderLength];
        FrameCodec.WriteHeader(header, length);
        Assert.Equal(length, FrameCodec.ReadHeader(header));
    }

    [Fact]
    public void Header_golden_bytes_are_a_4_byte_big_endian_length()
    {
        var header = new byte[FrameCodec.HeaderLength];
        FrameCodec.WriteHeader(header, 300);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x01, 0x2C }, header);

        FrameCodec.WriteHeader(header, 0x0012ABCD);
        Assert.Equal(new byte[] { 0x00, 0x12, 0xAB, 0xCD }, header);
        Assert.Equal(4, FrameCodec.HeaderLength);
        Assert.Equal(4 * 1024 * 1024, FrameCodec.MaxPayloadLength);
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x40, 0x00, 0x01 })] // MaxPayloadLength + 1
    [InlineData(new byte[] { 0x00, 0x50, 0x00, 0x00 })] // 5 MiB
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x00 })] // negative as a signed int
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    public void A_length_over_the_limit_is_a_protocol_violation(byte[] header)
    {
        var e = Assert.Throws<CradleProtocolException>(() => FrameCodec.ReadHeader(header));
        Assert.Contains("exceeds", e.Message, StringComparison.Ordinal);
        Assert.False(e.IsTransient);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(FrameCodec.MaxPayloadLength + 1)]
    public void Writing_a_header_for_a_bad_length_is_a_caller_error(int length)
    {
        var header = new byte[FrameCodec.HeaderLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameCodec.WriteHeader(header, length));
    }
}
