using System.Security.Cryptography;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Cradle.Store;
using Microsoft.Extensions.Logging;

namespace Cradle.Host;

/// <summary>
/// One device's session on the host: TLS, hello, partnership (authenticate or create), then
/// backups until the device says goodbye or the link drops. Anything that breaks the protocol
/// ends the session with a <see cref="Refusal"/> the device can show; nothing of an unfinished
/// backup becomes a snapshot.
/// </summary>
internal sealed partial class HostSession(HostService host, HostOptions options, ILogger logger, string remote, string link)
{
    private MessageChannel? _channel;
    private byte[] _certificateHash = [];
    private DeviceName _device;
    private uint _version = ProtocolVersion.Current; // the device's, which this session speaks
    private uint _number;
    private bool _guest;
    private bool _authenticated;
    private LiveSession _live = null!;
    private readonly QueryRate _queryRate = new(options.Limits.QueryIdsPerSecond, options.Limits.QueryIdsBurst, options.Time);

    public string Remote { get; } = remote;

    public async Task RunAsync(Stream stream, CancellationToken cancellationToken)
    {
        var reason = "goodbye";
        _live = host.Sessions.Begin(Remote, link);
        host.SessionStarted();
        try
        {
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                handshake.CancelAfter(options.HandshakeTimeout);
                // Below TLS: the link's progress (a serial line's acknowledgements, a TCP peer taking bytes).
                var wire = new CountingStream(stream);
                var ssl = await Tls.AcceptAsync(wire, host.Certificate, handshake.Token).ConfigureAwait(false);
                _certificateHash = HostCertificate.Hash(host.Certificate);
                _channel = new MessageChannel(ssl, options.Channel, wire);
                await HandshakeAsync(handshake.Token, cancellationToken).ConfigureAwait(false);
            }

            await ServeAsync(cancellationToken).ConfigureAwait(false);
            HostLog.SessionEnded(logger, Remote, reason);
        }
        catch (SessionRefusedException e)
        {
            // Messages may quote what the device sent: shown only through the wire-text sanitiser.
            var message = WireText.Clean(e.Message);
            reason = $"refused ({e.Rule}): {message}";
            HostLog.Refused(logger, Remote, _device.Value ?? "?", e.Rule, message);
            await TrySendAsync(new Envelope { Refusal = Refusals.ToMessage(e) }).ConfigureAwait(false);
        }
        catch (CradleProtocolException e)
        {
            var message = WireText.Clean(e.Message);
            reason = $"protocol violation: {message}";
            HostLog.SessionFailed(logger, Remote, reason);
            await TrySendAsync(new Envelope { Refusal = Refusals.ToMessage(new SessionRefusedException(RefusalClass.Protocol, e.Message)) }).ConfigureAwait(false);
        }
        catch (LinkClosedException e)
        {
            reason = WireText.Clean(e.Message);
            HostLog.SessionFailed(logger, Remote, reason);
        }
        catch (CradleException e) when (e.IsTransient)
        {
            // The host cannot serve now (a prune holds the store): the device tries again later.
            reason = WireText.Clean(e.Message);
            HostLog.SessionFailed(logger, Remote, reason);
            // By the exception's type, not its words: a full disk is its own class for the device's user.
            var refusal = new SessionRefusedException(e is StoreFullException ? RefusalClass.DiskFull : RefusalClass.Busy, e.Message);
            await TrySendAsync(new Envelope { Refusal = Refusals.ToMessage(refusal) }).ConfigureAwait(false);
            await DrainAfterRefusalAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var why = host.IsStopping ? "the host is stopping" : $"the {link} link went down (cable out)";
            reason = why;
            HostLog.SessionEnded(logger, Remote, why);
            await TrySendAsync(new Envelope { Goodbye = new Goodbye { Reason = why } }).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            reason = $"no hello within {options.HandshakeTimeout.TotalSeconds:0} s";
            HostLog.SessionFailed(logger, Remote, reason);
        }
        catch (Exception e)
        {
            reason = $"failed: {WireText.Clean(e.Message)}";
            throw;
        }
        finally
        {
            MarkAuthenticated();
            _live.End(reason);
            if (_channel is not null)
            {
                await _channel.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task TrySendAsync(Envelope message)
    {
        if (_channel is null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _channel.SendAsync(message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkClosedException or OperationCanceledException or IOException)
        {
            // The device is gone already; the refusal is in the host's log.
        }
    }

    /// <summary>
    /// After refusing a backup under way (a full disk, a busy store) the device may still be
    /// sending chunks. Closing with them unread makes TCP reset the connection, and a reset can
    /// drop the refusal before the device reads it: the device then reports a broken link instead
    /// of the reason. So what comes is read and dropped until the device closes, for 2 s at most.
    /// </summary>
    private async Task DrainAfterRefusalAsync()
    {
        if (_channel is null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            while (true)
            {
                await _channel.ReceiveAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is LinkClosedException or OperationCanceledException or IOException or CradleProtocolException)
        {
            // The device closed after reading the refusal (or kept sending for 2 s): the session ends now.
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken, CancellationToken sessionToken)
    {
        var first = await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (first.BodyCase != Envelope.BodyOneofCase.DeviceHello)
        {
            throw new CradleProtocolException($"expected a hello, got {first.BodyCase}");
        }

        var hello = first.DeviceHello;
        if (ProtocolVersion.Agree(hello.ProtocolVersion, hello.NewestProtocolVersion, options.NewestProtocolVersion) is not { } agreed)
        {
            var stated = hello.NewestProtocolVersion > hello.ProtocolVersion ? $"versions {hello.ProtocolVersion} to {hello.NewestProtocolVersion}" : $"protocol version {hello.ProtocolVersion}";
            throw new SessionRefusedException(RefusalClass.Version, $"the device speaks {stated}; this host speaks versions {ProtocolVersion.Oldest} to {options.NewestProtocolVersion}: update the older side");
        }

        _version = agreed;

        if (!DeviceName.TryParse(hello.DeviceName, out _device, out var nameProblem))
        {
            throw new SessionRefusedException(RefusalClass.P1, nameProblem + "; rename the device (cradle device name NEW)");
        }

        HostLog.Hello(logger, Remote, _device.Value, WireText.Clean(hello.Model), WireText.Clean(hello.Software), _version, hello.PartnershipsHeld, link);
        _live.SetDevice(_device.Value);

        var challenge = RandomNumberGenerator.GetBytes(32);
        await _channel.SendAsync(new Envelope
        {
            HostHello = new HostHello
            {
                ProtocolVersion = _version,
                HostName = host.Name,
                HostId = Google.Protobuf.ByteString.CopyFrom(host.HostId),
                Challenge = Google.Protobuf.ByteString.CopyFrom(challenge),
            },
        }, cancellationToken).ConfigureAwait(false);

        var second = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        switch (second.BodyCase)
        {
            case Envelope.BodyOneofCase.Authenticate:
                // The registry's connection is held for the check alone: nothing before
                // authentication keeps a descriptor beyond its socket while it waits on the device.
                using (var registry = PartnershipRegistry.Open(host.Store.Database, options.Time))
                {
                    Authenticate(registry, second.Authenticate, challenge);
                }

                await _channel.SendAsync(new Envelope { SessionAccepted = new SessionAccepted { Number = _number } }, cancellationToken).ConfigureAwait(false);
                break;
            case Envelope.BodyOneofCase.PartnerRequest:
                await CreatePartnershipAsync(hello, second.PartnerRequest, challenge, sessionToken).ConfigureAwait(false);
                break;
            case Envelope.BodyOneofCase.GuestRequest:
                // P3's guest: no record, no backup, nothing stored; restore only with the operator's consent.
                _guest = true;
                HostLog.GuestConnected(logger, Remote, _device.Value);
                await _channel.SendAsync(new Envelope { SessionAccepted = new SessionAccepted { Guest = true } }, cancellationToken).ConfigureAwait(false);
                break;
            case Envelope.BodyOneofCase.Goodbye:
                throw new LinkClosedException($"the device left before partnering: {second.Goodbye.Reason}");
            default:
                throw new CradleProtocolException($"expected authentication or a partnership request, got {second.BodyCase}");
        }

        if (!_guest)
        {
            // A guest's name proves nothing: it stays among the unauthenticated (bounded) sessions.
            MarkAuthenticated();
        }

        _live.SetPhase(_guest ? "connected as a guest" : "connected");
    }

    /// <summary>Leaves the host's count of unauthenticated sessions, once.</summary>
    private void MarkAuthenticated()
    {
        if (!_authenticated)
        {
            _authenticated = true;
            host.Authenticated();
        }
    }

    private void Authenticate(PartnershipRegistry registry, Authenticate request, byte[] challenge)
    {
        var record = registry.Find(_device);
        var refusal = PartnershipRules.CanAuthenticate(_device, request.Number, record);
        if (refusal is not null)
        {
            throw new SessionRefusedException(refusal.Class, refusal.Message);
        }

        if (!SessionProof.Verify(record!.Secret, challenge, _certificateHash, _device, request.Proof.Span))
        {
            throw new SessionRefusedException(RefusalClass.Auth, $"the device named {_device} did not prove the secret of partnership {new PartnershipNumber(request.Number)}; the number alone is no proof");
        }

        // The first session that proves the secret confirms a partnership whose PartnershipStored
        // was lost: the device had stored it. Racing a request that replaced the record, it loses.
        if (!record.Confirmed)
        {
            if (!registry.Confirm(_device, record.Number))
            {
                throw new SessionRefusedException(RefusalClass.P5, $"another device named {_device} asked this host for a partnership while this one's was unconfirmed, and took the name; rename this device");
            }

            HostLog.PartnershipConfirmed(logger, Remote, _device.Value, new PartnershipNumber(record.Number).ToString(), "authenticated");
        }

        _number = record.Number;
        registry.RecordSeen(_device, link, backedUp: false);
        HostLog.Authenticated(logger, Remote, _device.Value, new PartnershipNumber(_number).ToString());
    }
}
