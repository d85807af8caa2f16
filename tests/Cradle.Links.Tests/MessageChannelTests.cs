using System.Buffers.Binary;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.Links.Tests;

public sealed class MessageChannelTests : IDisposable
{
    private static readonly ChannelOptions NoKeepalive = new() { KeepaliveInterval = TimeSpan.Zero };

    private readonly DuplexPipe _link = new();

    // Guards every wait: a broken channel fails the test by cancellation instead of hanging it.
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(30));

    public void Dispose() => _guard.Dispose();

    private CancellationToken Guard => _guard.Token;

    [Fact]
    public async Task Closing_a_channel_ends_its_keepalive_without_throwing()
    {
        // A thrown exception is costly at the end of every session in the native executable
        // (its stack trace is built from the method names of the whole program).
        var thrown = 0;
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (e.Exception is OperationCanceledException && e.Exception.StackTrace?.Contains("PeriodicTimer", StringComparison.Ordinal) == true)
            {
                Interlocked.Increment(ref thrown);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var channel = new MessageChannel(new DuplexPipe().Left, new ChannelOptions { KeepaliveInterval = TimeSpan.FromSeconds(5) });
                await Task.Delay(20, Guard);
                await channel.DisposeAsync();
            }
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Equal(0, Volatile.Read(ref thrown));
    }

    [Fact]
    public async Task Envelopes_arrive_whole_and_in_order()
    {
        await using var device = new MessageChannel(_link.Left, NoKeepalive);
        await using var host = new MessageChannel(_link.Right, NoKeepalive);
        var hello = new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = 1, DeviceName = "MX7", Model = "m", PartnershipsHeld = 1, Software = "t" } };
        var request = new Envelope { PartnerRequest = new PartnerRequest { Number = 0xCAFEF00D } };
        var chunk = new Envelope
        {
            ChunkData = new ChunkData
            {
                Id = ByteString.CopyFrom(new byte[32]),
                Compression = Compression.None,
                RawLength = 1 << 20,
                Data = ByteString.CopyFrom(Enumerable.Range(0, 1 << 20).Select(i => (byte)(i % 251)).ToArray()),
            },
        };

        await device.SendAsync(hello, Guard);
        await device.SendAsync(request, Guard);
        await device.SendAsync(chunk, Guard);

        Assert.Equal(hello, await host.ReceiveAsync(Guard));
        Assert.Equal(request, await host.ReceiveAsync(Guard));
        Assert.Equal(chunk, await host.ReceiveAsync(Guard));
    }

    [Fact]
    public async Task Both_ends_send_and_receive()
    {
        await using var device = new MessageChannel(_link.Left, NoKeepalive);
        await using var host = new MessageChannel(_link.Right, NoKeepalive);

        await device.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "to host" } }, Guard);
        await host.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "to device" } }, Guard);

        Assert.Equal("to host", (await host.ReceiveAsync(Guard)).Goodbye.Reason);
        Assert.Equal("to device", (await device.ReceiveAsync(Guard)).Goodbye.Reason);
    }

    [Fact]
    public async Task A_frame_is_the_4_byte_length_then_the_envelope_golden_bytes()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await channel.SendAsync(new Envelope { Ping = new Ping { Nonce = 1 } }, Guard);

        var frame = new byte[8];
        await _link.Left.ReadExactlyAsync(frame, Guard);
        // length 4 | field 15 (ping), length-delimited, 2 bytes | field 1 varint 1
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x04, 0x7A, 0x02, 0x08, 0x01 }, frame);
    }

    [Fact]
    public async Task A_frame_header_claiming_5_MiB_is_refused_before_the_payload_is_read()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        // Only the header: a channel that waited for the 5 MiB would hang until the guard fires.
        await _link.LeftToRight.Writer.WriteAsync(Header(5 * 1024 * 1024), Guard);

        var e = await Assert.ThrowsAsync<CradleProtocolException>(async () => await channel.ReceiveAsync(Guard));
        Assert.Contains("5242880", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x01 })] // device_hello claims 5 bytes, 1 follows
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // malformed varint tag
    [InlineData(new byte[] { 0x00 })] // field number 0
    public async Task Garbage_protobuf_is_a_protocol_violation(byte[] payload)
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await WriteFrameAsync(payload);

        var e = await Assert.ThrowsAsync<CradleProtocolException>(async () => await channel.ReceiveAsync(Guard));
        Assert.IsType<InvalidProtocolBufferException>(e.InnerException);
    }

    [Fact]
    public async Task An_empty_envelope_is_a_protocol_violation()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await WriteFrameAsync([]);

        await Assert.ThrowsAsync<CradleProtocolException>(async () => await channel.ReceiveAsync(Guard));
    }

    [Fact]
    public async Task An_envelope_with_only_an_unknown_field_is_a_protocol_violation()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await WriteFrameAsync([0xB8, 0x06, 0x01]); // field 103, varint 1: a body this build does not know

        var e = await Assert.ThrowsAsync<CradleProtocolException>(async () => await channel.ReceiveAsync(Guard));
        Assert.Contains("unknown", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_peer_closing_the_link_is_LinkClosedException()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await _link.LeftToRight.Writer.CompleteAsync();

        var e = await Assert.ThrowsAsync<LinkClosedException>(async () => await channel.ReceiveAsync(Guard));
        Assert.True(e.IsTransient);
    }

    [Fact]
    public async Task The_peer_closing_in_the_middle_of_a_frame_is_LinkClosedException()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await _link.LeftToRight.Writer.WriteAsync(Header(10), Guard);
        await _link.LeftToRight.Writer.WriteAsync(new byte[] { 0x7A, 0x02, 0x08 }, Guard);
        await _link.LeftToRight.Writer.CompleteAsync();

        await Assert.ThrowsAsync<LinkClosedException>(async () => await channel.ReceiveAsync(Guard));
    }

    [Fact]
    public async Task A_link_that_drops_with_an_IO_error_is_LinkClosedException()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        await _link.LeftToRight.Writer.CompleteAsync(new IOException("connection reset by peer"));

        var e = await Assert.ThrowsAsync<LinkClosedException>(async () => await channel.ReceiveAsync(Guard));
        Assert.Contains("connection reset by peer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silent_peer_ends_in_LinkClosedException_after_the_idle_timeout()
    {
        await using var channel = new MessageChannel(_link.Right, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromMilliseconds(200) });

        var e = await Assert.ThrowsAsync<LinkClosedException>(async () => await channel.ReceiveAsync(Guard));
        Assert.Contains("silent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_frame_that_trickles_in_for_longer_than_the_idle_timeout_is_not_silence()
    {
        // A slow serial line: each byte proves the peer alive, however long the whole frame takes.
        var time = new ManualTime();
        var payload = new Envelope { Goodbye = new Goodbye { Reason = "slowly" } }.ToByteArray();
        var slow = new SlowStream([.. Header(payload.Length), .. payload], time, TimeSpan.FromSeconds(6));
        await using var channel = new MessageChannel(slow, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(10), Time = time });

        Assert.Equal("slowly", (await channel.ReceiveAsync(Guard)).Goodbye.Reason);
        Assert.True(time.GetUtcNow() - new ManualTime().GetUtcNow() > TimeSpan.FromSeconds(60), "the frame did not take longer than the idle timeout: the test proves nothing");
    }

    /// <summary>Gives one byte per read, each after the clock moved on by <paramref name="gap"/>.</summary>
    private sealed class SlowStream(byte[] bytes, ManualTime time, TimeSpan gap) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            time.Advance(gap);
            cancellationToken.ThrowIfCancellationRequested();
            return base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
        }
    }

    [Fact]
    public async Task The_idle_timeout_follows_the_injected_clock()
    {
        var time = new ManualTime();
        await using var channel = new MessageChannel(_link.Right, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromMinutes(1), Time = time });

        var receive = channel.ReceiveAsync(Guard).AsTask();
        time.Advance(TimeSpan.FromMinutes(2));

        await Assert.ThrowsAsync<LinkClosedException>(() => receive);
    }

    [Fact]
    public async Task Cancelling_a_receive_is_a_cancellation_not_a_lost_link()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        using var cancel = new CancellationTokenSource();
        var receive = channel.ReceiveAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive);
        Assert.IsNotType<LinkClosedException>(e);
    }

    [Fact]
    public async Task A_receive_whose_caller_stopped_waiting_goes_on_and_its_message_is_the_next_receive_s()
    {
        // An idle session listens (for pings, for a silent peer), then stops listening to start a
        // backup: the message that arrives is the backup's, and pings are answered meanwhile.
        await using var host = new MessageChannel(_link.Right, NoKeepalive);
        using (var idle = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await host.ReceiveAsync(idle.Token));
        }

        await WriteFrameAsync(new Envelope { Ping = new Ping { Nonce = 9 } }.ToByteArray());
        var pong = await ReadFrameAsync();
        Assert.Equal(9UL, pong.Pong.Nonce);
        await WriteFrameAsync(new Envelope { Goodbye = new Goodbye { Reason = "for the next receive" } }.ToByteArray());

        Assert.Equal("for the next receive", (await host.ReceiveAsync(Guard)).Goodbye.Reason);
    }

    [Fact]
    public async Task Silence_is_not_counted_while_the_link_below_makes_progress()
    {
        // A noisy serial line may hold a message back for longer than the idle timeout while its
        // frames are sent again; every frame acknowledged proves the peer there.
        var time = new ManualTime();
        var link = new FakeLiveness();
        await using var channel = new MessageChannel(_link.Right, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(10), Time = time }, link);
        var receive = channel.ReceiveAsync(Guard).AsTask();
        for (var i = 0; i < 12; i++)
        {
            link.SincePeerProgress = TimeSpan.FromSeconds(1);
            time.Advance(TimeSpan.FromSeconds(5));
        }

        // A receive given up ends on another thread: give it the time to.
        await Task.WhenAny(receive, Task.Delay(500, Guard));
        Assert.False(receive.IsCompleted, "the channel gave up on a peer whose link made progress all along");
        link.SincePeerProgress = TimeSpan.FromSeconds(60);
        time.Advance(TimeSpan.FromSeconds(11));
        var e = await Assert.ThrowsAsync<LinkClosedException>(() => receive);
        Assert.Contains("silent for 10 s", e.Message, StringComparison.Ordinal);
    }

    private sealed class FakeLiveness : ILinkLiveness
    {
        public TimeSpan? SincePeerProgress { get; set; }

        public TimeSpan? SinceSendProgress { get; set; }
    }

    [Fact]
    public async Task A_send_the_peer_takes_no_bytes_of_fails_after_the_idle_timeout_while_a_slow_one_goes_on()
    {
        // A TCP peer that stopped reading: once the buffers are full a write waits for ever.
        var time = new ManualTime();
        var link = new FakeLiveness { SinceSendProgress = TimeSpan.Zero };
        var stuck = new StuckStream();
        await using var channel = new MessageChannel(stuck, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(10), Time = time }, link);
        var send = channel.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "x" } }, Guard).AsTask();
        await stuck.Writing.Task.WaitAsync(Guard);
        for (var i = 0; i < 6; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5)); // the link takes bytes all along: a slow link, not a dead one
        }

        await Task.WhenAny(send, Task.Delay(500, Guard));
        Assert.False(send.IsCompleted, "a send whose link made progress was given up");
        link.SinceSendProgress = TimeSpan.FromSeconds(40);
        time.Advance(TimeSpan.FromSeconds(11));
        var e = await Assert.ThrowsAsync<LinkClosedException>(() => send);
        Assert.Contains("nothing could be sent for 10 s", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Takes no byte: every write waits until it is cancelled.</summary>
    private sealed class StuckStream : MemoryStream
    {
        public TaskCompletionSource Writing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writing.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    [Fact]
    public async Task A_ping_is_answered_with_a_pong_and_not_handed_to_the_caller()
    {
        await using var host = new MessageChannel(_link.Right, NoKeepalive);
        await WriteFrameAsync(new Envelope { Ping = new Ping { Nonce = 42 } }.ToByteArray());
        await WriteFrameAsync(new Envelope { Goodbye = new Goodbye { Reason = "after the ping" } }.ToByteArray());

        var received = await host.ReceiveAsync(Guard);

        Assert.Equal("after the ping", received.Goodbye.Reason);
        var answer = await ReadFrameAsync();
        Assert.Equal(Envelope.BodyOneofCase.Pong, answer.BodyCase);
        Assert.Equal(42UL, answer.Pong.Nonce);
    }

    [Fact]
    public async Task A_pong_is_swallowed()
    {
        await using var host = new MessageChannel(_link.Right, NoKeepalive);
        await WriteFrameAsync(new Envelope { Pong = new Pong { Nonce = 7 } }.ToByteArray());
        await WriteFrameAsync(new Envelope { BackupBegin = new BackupBegin { StartedUnixMs = 5 } }.ToByteArray());

        Assert.Equal(5, (await host.ReceiveAsync(Guard)).BackupBegin.StartedUnixMs);
    }

    [Fact]
    public async Task Keepalive_sends_a_ping_after_the_interval_of_silence()
    {
        var time = new ManualTime();
        await using var device = new MessageChannel(_link.Right, new ChannelOptions { KeepaliveInterval = TimeSpan.FromSeconds(10), Time = time });

        time.Advance(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(5));

        var ping = await ReadFrameAsync();
        Assert.Equal(Envelope.BodyOneofCase.Ping, ping.BodyCase);
        Assert.Equal(1UL, ping.Ping.Nonce);
    }

    [Fact]
    public async Task Keepalive_pings_are_answered_by_the_other_end_without_either_caller_seeing_them()
    {
        var time = new ManualTime();
        var deviceWire = new CountingStream(_link.Left);
        await using var device = new MessageChannel(deviceWire, new ChannelOptions { KeepaliveInterval = TimeSpan.FromSeconds(10), IdleTimeout = TimeSpan.FromSeconds(60), Time = time });
        await using var host = new MessageChannel(_link.Right, NoKeepalive);
        var deviceReceive = device.ReceiveAsync(Guard).AsTask();
        var hostReceive = host.ReceiveAsync(Guard).AsTask();

        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));
        // Wait (not time) until the host's pong reached the device: ping and pong crossed the link.
        var pongFrame = 4 + new Envelope { Pong = new Pong { Nonce = 1 } }.CalculateSize();
        while (deviceWire.BytesRead < pongFrame)
        {
            await Task.Delay(10, Guard);
        }

        Assert.False(deviceReceive.IsCompleted);
        Assert.False(hostReceive.IsCompleted);
        await device.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "done" } }, Guard);
        await host.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "bye" } }, Guard);

        Assert.Equal("done", (await hostReceive).Goodbye.Reason);
        Assert.Equal("bye", (await deviceReceive).Goodbye.Reason);
    }

    [Fact]
    public async Task Sending_a_message_above_the_frame_limit_is_a_caller_error_and_sends_nothing()
    {
        await using var channel = new MessageChannel(_link.Right, NoKeepalive);
        var huge = new Envelope { ChunkData = new ChunkData { Data = ByteString.CopyFrom(new byte[FrameCodec.MaxPayloadLength]) } };

        await Assert.ThrowsAsync<ArgumentException>(async () => await channel.SendAsync(huge, Guard));

        Assert.False(_link.RightToLeft.Reader.TryRead(out var nothing) && nothing.Buffer.Length > 0);
    }

    private static byte[] Header(int length)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, length);
        return header;
    }

    private async Task WriteFrameAsync(byte[] payload)
    {
        await _link.LeftToRight.Writer.WriteAsync(Header(payload.Length).Concat(payload).ToArray(), Guard);
    }

    private async Task<Envelope> ReadFrameAsync()
    {
        var header = new byte[4];
        await _link.Left.ReadExactlyAsync(header, Guard);
        var payload = new byte[FrameCodec.ReadHeader(header)];
        await _link.Left.ReadExactlyAsync(payload, Guard);
        return Envelope.Parser.ParseFrom(payload);
    }
}
