using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A scripted client that speaks the real protocol (TLS, frames, protobuf) to the real host
/// process, and can say anything: the hostile-device kit's first pieces.
/// </summary>
public sealed class HostileClient : IAsyncDisposable
{
    private HostileClient(MessageChannel channel, TlsSession tls)
    {
        Channel = channel;
        Tls = tls;
    }

    public MessageChannel Channel { get; }

    public TlsSession Tls { get; }

    public HostHello? Hello { get; private set; }

    public static async Task<HostileClient> ConnectAsync(string address)
    {
        var stream = await TcpLink.ConnectAsync(LinkAddress.Parse(address), TimeSpan.FromSeconds(10), CancellationToken.None);
        var tls = await Links.Tls.ConnectAsync(stream, CancellationToken.None);
        return new HostileClient(new MessageChannel(tls.Stream, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(30) }), tls);
    }

    /// <summary>Connects from a given loopback address (127.0.0.2, …): the host sees another source.</summary>
    public static async Task<HostileClient> ConnectFromAsync(string address, string from)
    {
        var target = LinkAddress.Parse(address);
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(from), 0));
        await socket.ConnectAsync(System.Net.IPAddress.Parse(target.Host), target.Port);
        var tls = await Links.Tls.ConnectAsync(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true), CancellationToken.None);
        return new HostileClient(new MessageChannel(tls.Stream, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero, IdleTimeout = TimeSpan.FromSeconds(30) }), tls);
    }

    public Task SendAsync(Envelope message) => Channel.SendAsync(message, CancellationToken.None).AsTask();

    public async Task<Envelope> ReceiveAsync() => await Channel.ReceiveAsync(CancellationToken.None);

    /// <summary>Hello in <paramref name="version"/>; with <paramref name="oldest"/>, the range from it to <paramref name="version"/>, as a real device states it (a host of an older release then answers too).</summary>
    public async Task<HostHello> HelloAsync(string name, uint version = ProtocolVersion.Current, uint held = 0, uint? oldest = null)
    {
        // By default the range a real device states (so an older host answers too); a test of a
        // particular version states that one alone.
        oldest ??= version == ProtocolVersion.Current ? ProtocolVersion.Oldest : null;
        await SendAsync(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = oldest ?? version, NewestProtocolVersion = oldest is null ? 0 : version, DeviceName = name, PartnershipsHeld = held } });
        var reply = await ReceiveAsync();
        Assert.True(reply.BodyCase == Envelope.BodyOneofCase.HostHello, $"expected a host hello, got {reply}");
        Hello = reply.HostHello;
        return Hello;
    }

    /// <summary>
    /// Hello, then a new partnership (the host runs with --auto-approve); returns the secret.
    /// With <paramref name="confirmStored"/> false the client never says it stored the secret: a
    /// device whose link dropped (or whose host died) between the host's answer and its own save.
    /// </summary>
    public async Task<byte[]> PartnerAsync(string name, uint number, bool confirmStored = true, uint? oldest = null)
    {
        await HelloAsync(name, oldest: oldest);
        var nonce = new byte[32];
        Random.Shared.NextBytes(nonce);
        await SendAsync(new Envelope { PartnerRequest = new PartnerRequest { Number = number, Commitment = ByteString.CopyFrom(SessionProof.Commit(nonce)) } });
        var challenge = await ReceiveAsync();
        Assert.True(challenge.BodyCase == Envelope.BodyOneofCase.PartnerChallenge, challenge.ToString());
        await SendAsync(new Envelope { PartnerReveal = new PartnerReveal { DeviceNonce = ByteString.CopyFrom(nonce) } });
        var accepted = await ReceiveAsync();
        Assert.True(accepted.BodyCase == Envelope.BodyOneofCase.SessionAccepted, accepted.ToString());
        if (confirmStored)
        {
            await SendAsync(new Envelope { PartnershipStored = new PartnershipStored { Number = number } });
        }

        return accepted.SessionAccepted.NewSecret.ToByteArray();
    }

    /// <summary>Hello and a new partnership request, up to the host's code (it waits for its operator); returns the code, or the refusal's rule and message.</summary>
    public async Task<string> RequestPartnershipAsync(string name, uint number)
    {
        // The version range a real device states, so a flood runs against an older host too (the before figures).
        await HelloAsync(name, oldest: ProtocolVersion.Oldest);
        var nonce = new byte[32];
        Random.Shared.NextBytes(nonce);
        await SendAsync(new Envelope { PartnerRequest = new PartnerRequest { Number = number, Commitment = ByteString.CopyFrom(SessionProof.Commit(nonce)) } });
        var challenge = await ReceiveAsync();
        Assert.True(challenge.BodyCase == Envelope.BodyOneofCase.PartnerChallenge, challenge.ToString());
        await SendAsync(new Envelope { PartnerReveal = new PartnerReveal { DeviceNonce = ByteString.CopyFrom(nonce) } });
        var pending = await ReceiveAsync();
        return pending.BodyCase == Envelope.BodyOneofCase.PartnerPending ? pending.PartnerPending.Code : $"{pending.Refusal?.Rule}: {pending.Refusal?.Message}";
    }

    /// <summary>Hello, then authentication of partnership <paramref name="number"/> with its secret; returns the host's answer.</summary>
    public async Task<Envelope> AuthenticateAsync(string name, uint number, byte[] secret)
    {
        var hello = await HelloAsync(name);
        var proof = SessionProof.Compute(secret, hello.Challenge.Span, Tls.PeerCertificateHash, DeviceName.Parse(name));
        await SendAsync(new Envelope { Authenticate = new Authenticate { Number = number, Proof = ByteString.CopyFrom(proof) } });
        return await ReceiveAsync();
    }

    /// <summary>Sends a backup whose single file has this path and content, and returns the host's answer to BackupEnd (or the refusal that came first).</summary>
    public async Task<Envelope> BackUpOneFileAsync(string path, byte[] content)
    {
        await SendAsync(new Envelope { BackupBegin = new BackupBegin() });
        var id = ChunkId.Of(content);
        await SendAsync(new Envelope { ChunkQuery = new ChunkQuery { QueryId = 1, Ids = { ByteString.CopyFrom(id.ToArray()) } } });
        var answer = await ReceiveAsync();
        if (answer.BodyCase != Envelope.BodyOneofCase.ChunkAnswer)
        {
            return answer;
        }

        if (answer.ChunkAnswer.Missing.Count > 0)
        {
            await SendAsync(new Envelope { ChunkData = new ChunkData { Id = ByteString.CopyFrom(id.ToArray()), RawLength = (uint)content.Length, Data = ByteString.CopyFrom(content) } });
        }

        var entry = new FileEntry { Path = path, Size = (ulong)content.Length, MtimeUnixNs = 1, ChunkIds = { ByteString.CopyFrom(id.ToArray()) } };
        await SendAsync(new Envelope { FileEntries = new FileEntries { Entries = { entry } } });
        await SendAsync(new Envelope { BackupEnd = new BackupEnd { Files = 1, Bytes = (ulong)content.Length } });
        return await ReceiveAsync();
    }

    public ValueTask DisposeAsync() => Channel.DisposeAsync();
}
