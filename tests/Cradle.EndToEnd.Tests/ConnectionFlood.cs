using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;

namespace Cradle.EndToEnd.Tests;

/// <summary>The ways a stranger's connection can stop short and hang on.</summary>
public enum Stall
{
    /// <summary>TCP connected, not a byte sent.</summary>
    Silent,

    /// <summary>The first 11 bytes of a TLS ClientHello whose record claims 200.</summary>
    HalfTlsHello,

    /// <summary>TLS completed, then nothing.</summary>
    TlsThenSilent,

    /// <summary>TLS completed, then a frame header claiming 1000 bytes and 10 of them.</summary>
    HalfFrame,

    /// <summary>TLS and the device's hello, the host's hello read, then nothing.</summary>
    HelloThenSilent,
}

/// <summary>
/// A flood of connections to a host that connect and then stall, each in one of the
/// <see cref="Stall"/> ways, and never close by themselves: only the host can end them. Each
/// connection reads until the host closes it and notes when.
/// </summary>
public sealed class ConnectionFlood : IAsyncDisposable
{
    private static readonly byte[] HalfClientHello = [0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03];
    private readonly List<Door> _doors = [];

    private ConnectionFlood()
    {
    }

    public int Count => _doors.Count;

    /// <summary>Opens <paramref name="each"/> connections of every stall kind given (all when none), one after another.</summary>
    public static async Task<ConnectionFlood> OpenAsync(string address, int each, params Stall[] kinds)
    {
        kinds = kinds.Length > 0 ? kinds : Enum.GetValues<Stall>();
        var flood = new ConnectionFlood();
        try
        {
            for (var i = 0; i < each; i++)
            {
                foreach (var kind in kinds)
                {
                    flood._doors.Add(await Door.OpenAsync(address, kind));
                }
            }
        }
        catch
        {
            await flood.DisposeAsync();
            throw;
        }

        return flood;
    }

    /// <summary>Waits until the host closed every connection or the timeout passed; returns those still open by kind.</summary>
    public async Task<Dictionary<Stall, int>> WaitUntilClosedAsync(TimeSpan timeout)
    {
        await Task.WhenAny(Task.WhenAll(_doors.Select(d => d.Closed)), Task.Delay(timeout));
        return _doors.Where(d => !d.Closed.IsCompleted).GroupBy(d => d.Kind).ToDictionary(g => g.Key, g => g.Count());
    }

    /// <summary>The longest a connection of each kind stayed open (of those closed), for the test's output.</summary>
    public Dictionary<Stall, TimeSpan> LongestOpen() =>
        _doors.Where(d => d.Closed.IsCompletedSuccessfully).GroupBy(d => d.Kind).ToDictionary(g => g.Key, g => g.Max(d => d.Closed.Result));

    public async ValueTask DisposeAsync()
    {
        foreach (var door in _doors)
        {
            await door.DisposeAsync();
        }
    }

    private sealed class Door : IAsyncDisposable
    {
        private readonly Stream _stream;
        private readonly MessageChannel? _channel;

        private Door(Stall kind, Stream stream, MessageChannel? channel, Stopwatch opened)
        {
            Kind = kind;
            _stream = stream;
            _channel = channel;
            Closed = ReadUntilClosedAsync(stream, opened);
        }

        public Stall Kind { get; }

        /// <summary>Completes with how long the connection was open when the host closed it.</summary>
        public Task<TimeSpan> Closed { get; }

        public static async Task<Door> OpenAsync(string address, Stall kind)
        {
            var opened = Stopwatch.StartNew();
            var stream = await TcpLink.ConnectAsync(LinkAddress.Parse(address), TimeSpan.FromSeconds(30), CancellationToken.None);
            switch (kind)
            {
                case Stall.Silent:
                    return new Door(kind, stream, null, opened);
                case Stall.HalfTlsHello:
                    await stream.WriteAsync(HalfClientHello);
                    await stream.FlushAsync();
                    return new Door(kind, stream, null, opened);
            }

            var tls = await Links.Tls.ConnectAsync(stream, CancellationToken.None);
            switch (kind)
            {
                case Stall.TlsThenSilent:
                    return new Door(kind, tls.Stream, null, opened);
                case Stall.HalfFrame:
                    var half = new byte[FrameCodec.HeaderLength + 10];
                    BinaryPrimitives.WriteUInt32BigEndian(half, 1000);
                    await tls.Stream.WriteAsync(half);
                    await tls.Stream.FlushAsync();
                    return new Door(kind, tls.Stream, null, opened);
                default:
                    var channel = new MessageChannel(tls.Stream, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromMinutes(10) });
                    await channel.SendAsync(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = ProtocolVersion.Current, DeviceName = "STRANGER-" + Random.Shared.Next(100, 999) } }, CancellationToken.None);
                    var reply = await channel.ReceiveAsync(CancellationToken.None);
                    Assert.Equal(Envelope.BodyOneofCase.HostHello, reply.BodyCase);
                    return new Door(kind, tls.Stream, channel, opened);
            }
        }

        private static async Task<TimeSpan> ReadUntilClosedAsync(Stream stream, Stopwatch opened)
        {
            // Leave the opener at once; the host's pings (if any) are read and dropped.
            await Task.Yield();
            var buffer = new byte[4096];
            try
            {
                while (await stream.ReadAsync(buffer) > 0)
                {
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // Reset rather than closed: closed all the same.
            }

            return opened.Elapsed;
        }

        public async ValueTask DisposeAsync()
        {
            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            await _stream.DisposeAsync();
        }
    }
}
