using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// The hostile-host kit: a scripted host that speaks the real protocol (TLS, frames, protobuf) to
/// the real device process and says whatever its script wants — bad hellos, wrong codes, lying
/// counts, chunks that do not match their hash, zstd bombs, another host's id with its own
/// certificate, terminal escapes in its words. The counterpart of <see cref="HostileClient"/>.
/// It accepts one connection and runs the script on it; what the device said is kept for the test.
/// </summary>
public sealed class HostileHost : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly Task _serving;

    private HostileHost(Func<HostileHost, MessageChannel, Task> script)
    {
        _certificate = TestCertificates.SelfSigned("CN=hostile host");
        CertificateHash = SHA256.HashData(_certificate.RawData);
        _listener.Start();
        _serving = ServeAsync(script);
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>SHA-256 of the certificate this host shows (what a device pins).</summary>
    public byte[] CertificateHash { get; }

    /// <summary>How many chunks the device asked for (it asks only for files it will write).</summary>
    public int ChunksRequested { get; private set; }

    /// <summary>The device's report at the end of a restore, once it came.</summary>
    public RestoreDone? Done { get; private set; }

    /// <summary>Why the device left in the middle of a restore (its <c>Goodbye</c>), if it did.</summary>
    public string? Left { get; private set; }

    /// <summary>Every message the device sent, in order (the test checks what it did not send).</summary>
    public List<Envelope> Received { get; } = [];

    /// <summary>Runs <paramref name="script"/> on the first connection.</summary>
    public static HostileHost Start(Func<HostileHost, MessageChannel, Task> script) => new(script);

    /// <summary>Serves one guest restore of <paramref name="paths"/>, each a file holding <paramref name="content"/>.</summary>
    public static HostileHost Serve(IReadOnlyList<string> paths, byte[] content) =>
        Start(async (host, channel) =>
        {
            await host.GreetAsync(channel);
            await host.AcceptGuestAsync(channel);
            var id = ChunkId.Of(content);
            await host.OfferAsync(channel, paths.Select(p => new FileEntry { Path = p, Size = (ulong)content.Length, MtimeUnixNs = 1_000_000_000, ChunkIds = { ByteString.CopyFrom(id.ToArray()) } }).ToList());
            await host.ServeChunksAsync(channel, _ => new ChunkData { RawLength = (uint)content.Length, Data = ByteString.CopyFrom(content) });
        });

    /// <summary>
    /// Reads the device's hello and answers with this host's (or the hello given). A hello in
    /// <see cref="ProtocolVersion.Current"/> is answered in the newest version both speak, as a
    /// real host answers, so that the kit also runs against a device of an older build (CRADLE_EXE);
    /// any other version is sent as given.
    /// </summary>
    public async Task<DeviceHello> GreetAsync(MessageChannel channel, HostHello? hello = null)
    {
        var first = await ReceiveAsync(channel);
        Assert.Equal(Envelope.BodyOneofCase.DeviceHello, first.BodyCase);
        var device = first.DeviceHello;
        hello ??= new HostHello
        {
            ProtocolVersion = ProtocolVersion.Current,
            HostName = "evil",
            HostId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)),
            Challenge = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
        };
        if (hello.ProtocolVersion == ProtocolVersion.Current)
        {
            hello.ProtocolVersion = Math.Min(ProtocolVersion.Current, Math.Max(device.ProtocolVersion, device.NewestProtocolVersion));
        }

        await channel.SendAsync(new Envelope { HostHello = hello }, CancellationToken.None);
        return device;
    }

    /// <summary>Takes the device's guest request and serves it as a guest.</summary>
    public async Task AcceptGuestAsync(MessageChannel channel)
    {
        Assert.Equal(Envelope.BodyOneofCase.GuestRequest, (await ReceiveAsync(channel)).BodyCase);
        await channel.SendAsync(new Envelope { SessionAccepted = new SessionAccepted { Guest = true } }, CancellationToken.None);
    }

    /// <summary>Takes the restore request and offers these entries (<paramref name="offered"/>: the count the offer claims).</summary>
    public async Task OfferAsync(MessageChannel channel, List<FileEntry> entries, ulong? offered = null)
    {
        Assert.Equal(Envelope.BodyOneofCase.RestoreRequest, (await ReceiveAsync(channel)).BodyCase);
        await channel.SendAsync(new Envelope { RestoreOffer = new RestoreOffer { SnapshotId = 1, SourceDevice = "EVIL", Entries = offered ?? (ulong)entries.Count, Grounds = "partnership" } }, CancellationToken.None);
        var batch = new FileEntries();
        batch.Entries.AddRange(entries);
        await channel.SendAsync(new Envelope { FileEntries = batch }, CancellationToken.None);
    }

    /// <summary>Answers chunk requests with what <paramref name="answer"/> makes of each id, until the device says it is done.</summary>
    public async Task ServeChunksAsync(MessageChannel channel, Func<ByteString, ChunkData> answer)
    {
        while (true)
        {
            var message = await ReceiveAsync(channel);
            if (message.BodyCase == Envelope.BodyOneofCase.RestoreDone)
            {
                Done = message.RestoreDone;
                return;
            }

            if (message.BodyCase == Envelope.BodyOneofCase.Goodbye)
            {
                // The device stopped the restore (a chunk it refused) and said why.
                Left = message.Goodbye.Reason;
                return;
            }

            Assert.Equal(Envelope.BodyOneofCase.ChunkRequest, message.BodyCase);
            foreach (var asked in message.ChunkRequest.Ids)
            {
                ChunksRequested++;
                var chunk = answer(asked);
                chunk.Id = asked;
                await channel.SendAsync(new Envelope { ChunkData = chunk }, CancellationToken.None);
            }
        }
    }

    /// <summary>The next message from the device, kept in <see cref="Received"/>.</summary>
    public async Task<Envelope> ReceiveAsync(MessageChannel channel)
    {
        var message = await channel.ReceiveAsync(CancellationToken.None);
        lock (Received)
        {
            Received.Add(message);
        }

        return message;
    }

    private async Task ServeAsync(Func<HostileHost, MessageChannel, Task> script)
    {
        using var socket = await _listener.AcceptSocketAsync();
        var ssl = await Tls.AcceptAsync(new NetworkStream(socket, ownsSocket: false), _certificate, CancellationToken.None);
        await using var channel = new MessageChannel(ssl, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(30) });
        await script(this, channel);
    }

    /// <summary>Waits for the scripted session to finish (and surfaces its assertion failures).</summary>
    public Task FinishedAsync() => _serving.WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Waits for the session to end whichever way (the device hung up on a lie): true when the script ran to its end.</summary>
    public async Task<bool> EndedAsync()
    {
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(30));
            return true;
        }
        catch (Exception e) when (e is LinkClosedException or IOException or CradleProtocolException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or LinkClosedException or TimeoutException or IOException or CradleProtocolException)
        {
            // The session was cut short: the test already asserted what it needed.
        }

        _listener.Dispose();
        _certificate.Dispose();
    }
}
