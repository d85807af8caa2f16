using Cradle.Protocol.Messages;

namespace Cradle.Links.Tests;

public class CountingStreamTests
{
    [Fact]
    public async Task Counts_bytes_written_and_read_sync_and_async()
    {
        var inner = new MemoryStream();
        using var counting = new CountingStream(inner);

        counting.Write(new byte[10], 0, 10);
        await counting.WriteAsync(new byte[5]);
        await counting.WriteAsync(new byte[7], 0, 7);
        Assert.Equal(22, counting.BytesWritten);
        Assert.Equal(0, counting.BytesRead);
        Assert.Equal(22, inner.Length);

        inner.Position = 0;
        var buffer = new byte[100];
        Assert.Equal(4, counting.Read(buffer, 0, 4));
        Assert.Equal(8, await counting.ReadAsync(buffer.AsMemory(0, 8)));
        Assert.Equal(10, await counting.ReadAsync(buffer, 0, 100)); // only 10 are left
        Assert.Equal(0, await counting.ReadAsync(buffer));
        Assert.Equal(22, counting.BytesRead);
        Assert.Equal(22, counting.BytesWritten);
    }

    [Fact]
    public async Task Counts_every_frame_byte_of_a_message_channel()
    {
        var link = new DuplexPipe();
        var counting = new CountingStream(link.Left);
        await using var channel = new MessageChannel(counting, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero });
        var message = new Envelope { Goodbye = new Goodbye { Reason = "counted" } };

        await channel.SendAsync(message, CancellationToken.None);

        Assert.Equal(4 + message.CalculateSize(), counting.BytesWritten);
    }

    [Fact]
    public void Disposing_disposes_the_inner_stream()
    {
        var inner = new MemoryStream();
        new CountingStream(inner).Dispose();
        Assert.Throws<ObjectDisposedException>(() => inner.WriteByte(1));
    }

    [Fact]
    public void Is_not_seekable()
    {
        using var counting = new CountingStream(new MemoryStream());
        Assert.False(counting.CanSeek);
        Assert.Throws<NotSupportedException>(() => counting.Position);
        Assert.Throws<NotSupportedException>(() => counting.Seek(0, SeekOrigin.Begin));
    }
}
