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
/// A scripted host that speaks the real protocol (TLS, frames, protobuf) to the real device
/// process and serves one guest restore whose entries say whatever the test wants: the
/// hostile-host counterpart of <see cref="HostileClient"/>.
/// </summary>
public sealed class HostileHost : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly Task _serving;

    private HostileHost(IReadOnlyList<string> paths, byte[] content)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=hostile host", key, HashAlgorithmName.SHA256);
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _certificate = X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
        _listener.Start();
        _serving = ServeAsync(paths, content);
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>How many chunks the device asked for (it asks only for files it will write).</summary>
    public int ChunksRequested { get; private set; }

    /// <summary>The device's report at the end, once it came.</summary>
    public RestoreDone? Done { get; private set; }

    /// <summary>Serves one restore of <paramref name="paths"/>, each a file holding <paramref name="content"/>.</summary>
    public static HostileHost Serve(IReadOnlyList<string> paths, byte[] content) => new(paths, content);

    private async Task ServeAsync(IReadOnlyList<string> paths, byte[] content)
    {
        using var socket = await _listener.AcceptSocketAsync();
        var ssl = await Tls.AcceptAsync(new NetworkStream(socket, ownsSocket: false), _certificate, CancellationToken.None);
        await using var channel = new MessageChannel(ssl, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(30) });
        var hello = await channel.ReceiveAsync(CancellationToken.None);
        Assert.Equal(Envelope.BodyOneofCase.DeviceHello, hello.BodyCase);
        await channel.SendAsync(new Envelope
        {
            HostHello = new HostHello
            {
                ProtocolVersion = ProtocolVersion.Current,
                HostName = "evil",
                HostId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)),
                Challenge = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
            },
        }, CancellationToken.None);
        Assert.Equal(Envelope.BodyOneofCase.GuestRequest, (await channel.ReceiveAsync(CancellationToken.None)).BodyCase);
        await channel.SendAsync(new Envelope { SessionAccepted = new SessionAccepted { Guest = true } }, CancellationToken.None);
        Assert.Equal(Envelope.BodyOneofCase.RestoreRequest, (await channel.ReceiveAsync(CancellationToken.None)).BodyCase);

        var id = ByteString.CopyFrom(ChunkId.Of(content).ToArray());
        await channel.SendAsync(new Envelope { RestoreOffer = new RestoreOffer { SnapshotId = 1, SourceDevice = "EVIL", Entries = (ulong)paths.Count, Grounds = "partnership" } }, CancellationToken.None);
        var entries = new FileEntries();
        foreach (var path in paths)
        {
            entries.Entries.Add(new FileEntry { Path = path, Size = (ulong)content.Length, MtimeUnixNs = 1_000_000_000, ChunkIds = { id } });
        }

        await channel.SendAsync(new Envelope { FileEntries = entries }, CancellationToken.None);
        while (true)
        {
            var message = await channel.ReceiveAsync(CancellationToken.None);
            if (message.BodyCase == Envelope.BodyOneofCase.RestoreDone)
            {
                Done = message.RestoreDone;
                return;
            }

            Assert.Equal(Envelope.BodyOneofCase.ChunkRequest, message.BodyCase);
            foreach (var asked in message.ChunkRequest.Ids)
            {
                ChunksRequested++;
                await channel.SendAsync(new Envelope { ChunkData = new ChunkData { Id = asked, RawLength = (uint)content.Length, Data = ByteString.CopyFrom(content) } }, CancellationToken.None);
            }
        }
    }

    /// <summary>Waits for the scripted session to finish (and surfaces its assertion failures).</summary>
    public Task FinishedAsync() => _serving.WaitAsync(TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or LinkClosedException or TimeoutException or IOException)
        {
            // The session was cut short: the test already asserted what it needed.
        }

        _listener.Dispose();
        _certificate.Dispose();
    }
}
