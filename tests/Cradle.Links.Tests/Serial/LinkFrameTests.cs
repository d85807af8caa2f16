using Cradle.Links.Serial;

namespace Cradle.Links.Tests.Serial;

public class LinkFrameTests
{
    [Fact]
    public void Golden_bytes_of_a_data_frame()
    {
        var frame = new LinkFrame(LinkFrameKind.Data, 0x1234, 7, 9, 0b101, new byte[] { 0xAA, 0x00, 0xBB });
        var buffer = new byte[LinkFrame.MaxEncodedLength];
        var n = frame.Encode(buffer);
        // kind 03, session 0x1234, seq 7, ack 9, sack 0b101, payload AA 00 BB, CRC-32 D5C5960B (zlib.crc32), COBS, then 00.
        Assert.Equal("050334120702090205010102AA06BB0B96C5D500", Convert.ToHexString(buffer, 0, n));
        Assert.True(LinkFrame.TryDecode(buffer.AsSpan(0, n - 1), out var back));
        Assert.Equal(frame.Kind, back.Kind);
        Assert.Equal(frame.Session, back.Session);
        Assert.Equal(frame.Seq, back.Seq);
        Assert.Equal(frame.Ack, back.Ack);
        Assert.Equal(frame.Sack, back.Sack);
        Assert.Equal(frame.Payload.ToArray(), back.Payload.ToArray());
    }

    [Fact]
    public void Golden_bytes_of_an_offer_and_an_answer_stating_link_layer_2()
    {
        // seq 0x2002: link layer version 2, a receive window of 32 frames (the first release sent 0 there and never read it).
        var buffer = new byte[LinkFrame.MaxEncodedLength];
        var offer = new LinkFrame(LinkFrameKind.Offer, 0x1234, new LinkCapabilities(2, 32).Encode(), 0, 0, "CRADLE/1\0MX7-01"u8.ToArray());
        Assert.Equal("060134120220010101010109435241444C452F310B4D58372D3031E6F40B0E00", Convert.ToHexString(buffer, 0, offer.Encode(buffer)));
        var answer = new LinkFrame(LinkFrameKind.Answer, 0x1234, new LinkCapabilities(2, 32).Encode(), 0, 0, "CRADLE/1\0"u8.ToArray());
        Assert.Equal("060234120220010101010109435241444C452F31053A97EDB300", Convert.ToHexString(buffer, 0, answer.Encode(buffer)));
    }

    [Fact]
    public void Any_flipped_bit_is_caught()
    {
        var payload = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        var buffer = new byte[LinkFrame.MaxEncodedLength];
        var n = new LinkFrame(LinkFrameKind.Data, 1, 2, 3, 0, payload).Encode(buffer) - 1;
        for (var bit = 0; bit < n * 8; bit++)
        {
            var damaged = buffer.AsSpan(0, n).ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(LinkFrame.TryDecode(damaged, out _), $"bit {bit} flipped went unnoticed");
        }
    }

    [Fact]
    public void Oversized_payload_is_refused_when_sending()
    {
        var frame = new LinkFrame(LinkFrameKind.Data, 1, 0, 0, 0, new byte[LinkFrame.MaxPayload + 1]);
        Assert.Throws<ArgumentException>(() => frame.Encode(new byte[4096]));
    }

    [Fact]
    public void Oversized_or_unknown_frames_are_noise()
    {
        Assert.False(LinkFrame.TryDecode(new byte[LinkFrame.MaxEncodedLength + 1], out _));
        var buffer = new byte[LinkFrame.MaxEncodedLength];
        var n = new LinkFrame((LinkFrameKind)9, 1, 0, 0, 0, ReadOnlyMemory<byte>.Empty).Encode(buffer) - 1;
        Assert.False(LinkFrame.TryDecode(buffer.AsSpan(0, n), out _));
    }
}
