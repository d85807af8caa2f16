using Cradle.Links.Serial;

namespace Cradle.Links.Tests.Serial;

public class FrameSizerTests
{
    [Theory]
    [InlineData(0, 2048, 2048)]
    [InlineData(8e-5, 400, 500)] // a bit error rate of 1e-5 (8 bits per byte)
    [InlineData(2.4e-4, 230, 290)] // 3e-5
    [InlineData(8.1e-4, 120, 160)] // 1e-4 plus dropped bytes at 1e-5
    [InlineData(0.5, FrameSizer.MinPayload, FrameSizer.MinPayload)]
    public void The_best_payload_follows_the_loss_per_byte(double lossPerByte, int low, int high)
    {
        var best = FrameSizer.BestPayload(lossPerByte);
        Assert.InRange(best, low, high);
    }

    [Fact]
    public void A_session_starts_small_and_reaches_the_largest_frames_on_a_clean_line()
    {
        var sizer = new FrameSizer();
        Assert.Equal(FrameSizer.StartPayload, sizer.Payload);
        for (var i = 0; i < 3 * FrameSizer.FramesPerDoubling; i++)
        {
            sizer.Record(FrameSizer.LineBytes(sizer.Payload), delivered: true);
        }

        Assert.Equal(LinkFrame.MaxPayload, sizer.Payload);
        Assert.Equal(0, sizer.LossPerByte);
    }

    [Fact]
    public void Frames_shrink_on_a_noisy_line_and_grow_again_when_it_is_clean()
    {
        var sizer = new FrameSizer();
        var random = new Random(3);
        const double lossPerByte = 8e-4;
        for (var i = 0; i < 2000; i++)
        {
            var line = FrameSizer.LineBytes(sizer.Payload);
            sizer.Record(line, delivered: random.NextDouble() < Math.Exp(-lossPerByte * line));
        }

        Assert.InRange(sizer.Payload, 90, 220);
        Assert.InRange(sizer.LossPerByte, 5e-4, 1.2e-3);

        for (var i = 0; i < 1000; i++)
        {
            sizer.Record(FrameSizer.LineBytes(sizer.Payload), delivered: true);
        }

        Assert.Equal(LinkFrame.MaxPayload, sizer.Payload);
    }

    [Theory]
    [InlineData((ushort)0, 1, 8)] // the first release states nothing
    [InlineData((ushort)0x2002, 2, 32)]
    [InlineData((ushort)0x0802, 2, 8)]
    [InlineData((ushort)0x4002, 1, 8)] // a window beyond the SACK bitmap: unusable, taken as the first release
    [InlineData((ushort)0x2001, 1, 8)]
    public void Capabilities_are_read_from_the_offer_s_seq_field(ushort seq, int version, int window)
    {
        var capabilities = LinkCapabilities.Decode(seq);
        Assert.Equal(version, capabilities.Version);
        Assert.Equal(window, capabilities.ReceiveWindow);
    }

    [Fact]
    public void This_release_states_version_2_and_32_frames_and_the_first_release_nothing()
    {
        Assert.Equal(0x2002, new ReliableLinkOptions().Capabilities.Encode());
        Assert.Equal(0, new ReliableLinkOptions { Version = 1 }.Capabilities.Encode());
    }
}
