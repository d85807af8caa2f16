using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Cradle.Tests;
using Google.Protobuf;

namespace Cradle.Device.Tests;

/// <summary>
/// A host on 127.0.0.1 that speaks the real protocol (TLS, frames, protobuf) far enough to
/// refuse: it answers every device's hello, reads its next message and sends the refusal it was
/// given, then hangs up — every connection, so a device that tries again is refused again.
/// </summary>
internal sealed class RefusingHost : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly Refusal _refusal;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private int _refused;

    public RefusingHost(Refusal refusal)
    {
        _refusal = refusal;
        _certificate = TestCertificates.SelfSigned("CN=refusing host");
        _listener.Start();
        _serving = ServeAsync();
    }

    public LinkAddress Address => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);

    /// <summary>How many sessions were refused so far.</summary>
    public int Refused => Volatile.Read(ref _refused);

    private async Task ServeAsync()
    {
        var hostId = RandomNumberGenerator.GetBytes(16);
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (client)
            {
                var ssl = await Tls.AcceptAsync(client.GetStream(), _certificate, _stop.Token);
                await using var channel = new MessageChannel(ssl);
                var hello = await channel.ReceiveAsync(_stop.Token);
                await channel.SendAsync(new Envelope
                {
                    HostHello = new HostHello
                    {
                        ProtocolVersion = Math.Min(ProtocolVersion.Current, Math.Max(hello.DeviceHello.ProtocolVersion, hello.DeviceHello.NewestProtocolVersion)),
                        HostName = "refuser",
                        HostId = ByteString.CopyFrom(hostId),
                        Challenge = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(32)),
                    },
                }, _stop.Token);
                await channel.ReceiveAsync(_stop.Token); // the partnership request
                await channel.SendAsync(new Envelope { Refusal = _refusal }, _stop.Token);
                Interlocked.Increment(ref _refused);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or LinkClosedException or IOException)
        {
            // Stopped while a device was connected: nothing left to check.
        }

        _certificate.Dispose();
        _stop.Dispose();
    }
}
