using System.Buffers.Binary;
using Cradle.Links;
using Cradle.Protocol;
using CsCheck;

namespace Cradle.Fuzz.Tests;

/// <summary>
/// Regression for what the frames property found: <see cref="MessageChannel"/> rented a buffer
/// of the length a frame header claimed (up to 4 MiB) before a byte of the payload arrived, so
/// every unauthenticated connection that sent "4 MiB follow" and then trickled held 4 MiB of
/// the host until its handshake timeout. Now the buffer grows (doubling) with the bytes that
/// arrive: it never exceeds 64 KiB more than the bytes received.
/// </summary>
public sealed class FrameMemoryTests
{
    [Fact]
    public void A_header_claiming_4_MiB_gets_64_KiB_until_the_bytes_come()
    {
        var input = new byte[FrameCodec.HeaderLength + 10];
        BinaryPrimitives.WriteUInt32BigEndian(input, FrameCodec.MaxPayloadLength);
        var stream = new ReplayStream(input);

        // The peer stops after 10 bytes: no message, the link closed.
        Assert.Empty(FramesTarget.ReceiveAll(stream));

        Assert.InRange(stream.MostOfferedAhead, 0, MessageChannel.FirstReadLength);
    }

    [Fact]
    public void Room_for_a_frame_never_exceeds_its_received_bytes_by_more_than_64_KiB()
    {
        var claims = Gen.Int[0, FrameCodec.MaxPayloadLength];
        Gen.Select(claims, Gen.Int[0, 300_000], (claim, sent) => (claim, sent)).Sample(
            c =>
            {
                var input = new byte[FrameCodec.HeaderLength + Math.Min(c.claim, c.sent)];
                BinaryPrimitives.WriteUInt32BigEndian(input, (uint)c.claim);
                var stream = new ReplayStream(input);
                try
                {
                    FramesTarget.ReceiveAll(stream);
                }
                catch (Exception e) when (e is CradleProtocolException or LinkClosedException)
                {
                    // The payload is zeros, cut short or not: refused, or parsed as empty fields.
                }

                return stream.MostOfferedAhead <= MessageChannel.FirstReadLength;
            },
            iter: 200,
            threads: 1);
    }

    [Fact]
    public void A_frame_of_the_largest_size_still_arrives_whole()
    {
        // 4 MiB less the envelope's tags and lengths: the buffer doubles from 64 KiB six times.
        var reason = string.Create(FrameCodec.MaxPayloadLength - 16, 0, (chars, _) => chars.Fill('x'));
        var message = new Protocol.Messages.Envelope { Goodbye = new Protocol.Messages.Goodbye { Reason = reason } };
        var stream = new ReplayStream(FramesTarget.Frame(message));

        var received = FramesTarget.ReceiveAll(stream);

        Assert.Equal(message, Assert.Single(received));
    }
}
