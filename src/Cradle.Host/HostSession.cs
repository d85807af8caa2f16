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
    private LiveSession _live = null!;

    public string Remote { get; } = remote;

    public async Task RunAsync(Stream stream, CancellationToken cancellationToken)
    {
        var reason = "goodbye";
        _live = host.Sessions.Begin(Remote, link);
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
            reason = $"refused ({e.Rule}): {e.Message}";
            HostLog.Refused(logger, Remote, _device.Value ?? "?", e.Rule, e.Message);
            await TrySendAsync(new Envelope { Refusal = new Protocol.Messages.Refusal { Rule = e.Rule, Message = e.Message } }).ConfigureAwait(false);
        }
        catch (ProtocolViolationException e)
        {
            reason = $"protocol violation: {e.Message}";
            HostLog.SessionFailed(logger, Remote, $"protocol violation: {e.Message}");
            await TrySendAsync(new Envelope { Refusal = new Protocol.Messages.Refusal { Rule = "protocol", Message = e.Message } }).ConfigureAwait(false);
        }
        catch (LinkClosedException e)
        {
            reason = e.Message;
            HostLog.SessionFailed(logger, Remote, e.Message);
        }
        catch (CradleException e) when (e.IsTransient)
        {
            // The host cannot serve now (a prune holds the store): the device tries again later.
            reason = e.Message;
            HostLog.SessionFailed(logger, Remote, e.Message);
            var rule = e is StoreFullException ? "disk-full" : "busy";
            await TrySendAsync(new Envelope { Refusal = new Protocol.Messages.Refusal { Rule = rule, Message = e.Message } }).ConfigureAwait(false);
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
            reason = $"failed: {e.Message}";
            throw;
        }
        finally
        {
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

    private async Task HandshakeAsync(CancellationToken cancellationToken, CancellationToken sessionToken)
    {
        var first = await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (first.BodyCase != Envelope.BodyOneofCase.DeviceHello)
        {
            throw new ProtocolViolationException($"expected a hello, got {first.BodyCase}");
        }

        var hello = first.DeviceHello;
        if (ProtocolVersion.Agree(hello.ProtocolVersion, hello.NewestProtocolVersion, options.NewestProtocolVersion) is not { } agreed)
        {
            var stated = hello.NewestProtocolVersion > hello.ProtocolVersion ? $"versions {hello.ProtocolVersion} to {hello.NewestProtocolVersion}" : $"protocol version {hello.ProtocolVersion}";
            throw new SessionRefusedException("version", $"the device speaks {stated}; this host speaks versions {ProtocolVersion.Oldest} to {options.NewestProtocolVersion}: update the older side");
        }

        _version = agreed;

        if (!DeviceName.TryParse(hello.DeviceName, out _device, out var nameProblem))
        {
            throw new SessionRefusedException("P1", nameProblem + "; rename the device (cradle device name NEW)");
        }

        HostLog.Hello(logger, Remote, _device.Value, hello.Model, hello.Software, _version, hello.PartnershipsHeld, link);
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
        using var registry = PartnershipRegistry.Open(host.Store.Database, options.Time);
        switch (second.BodyCase)
        {
            case Envelope.BodyOneofCase.Authenticate:
                Authenticate(registry, second.Authenticate, challenge);
                await _channel.SendAsync(new Envelope { SessionAccepted = new SessionAccepted { Number = _number } }, cancellationToken).ConfigureAwait(false);
                break;
            case Envelope.BodyOneofCase.PartnerRequest:
                await CreatePartnershipAsync(registry, hello, second.PartnerRequest, challenge, sessionToken).ConfigureAwait(false);
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
                throw new ProtocolViolationException($"expected authentication or a partnership request, got {second.BodyCase}");
        }

        _live.SetPhase(_guest ? "connected as a guest" : "connected");
    }

    private void Authenticate(PartnershipRegistry registry, Authenticate request, byte[] challenge)
    {
        var record = registry.Find(_device);
        var refusal = PartnershipRules.CanAuthenticate(_device, request.Number, record);
        if (refusal is not null)
        {
            throw new SessionRefusedException(refusal.Rule, refusal.Message);
        }

        if (!SessionProof.Verify(record!.Secret, challenge, _certificateHash, _device, request.Proof.Span))
        {
            throw new SessionRefusedException("auth", $"the device named {_device} did not prove the secret of partnership {new PartnershipNumber(request.Number)}; the number alone is no proof (P2)");
        }

        // The first session that proves the secret confirms a partnership whose PartnershipStored
        // was lost: the device had stored it. Racing a request that replaced the record, it loses.
        if (!record.Confirmed)
        {
            if (!registry.Confirm(_device, record.Number))
            {
                throw new SessionRefusedException("P5", $"another device named {_device} asked this host for a partnership while this one's was unconfirmed, and took the name; rename this device");
            }

            HostLog.PartnershipConfirmed(logger, Remote, _device.Value, new PartnershipNumber(record.Number).ToString(), "authenticated");
        }

        _number = record.Number;
        registry.RecordSeen(_device, link, backedUp: false);
        HostLog.Authenticated(logger, Remote, _device.Value, new PartnershipNumber(_number).ToString());
    }

    private async Task CreatePartnershipAsync(PartnershipRegistry registry, DeviceHello hello, PartnerRequest request, byte[] challenge, CancellationToken cancellationToken)
    {
        var number = request.Number;
        var existing = registry.Find(_device);
        if (request.RecoveryVerifier.Length is not 0 and not 32 || request.ReclaimProof.Length is not 0 and not 32)
        {
            throw new ProtocolViolationException("a recovery verifier or reclaim proof is 32 bytes");
        }

        var refusal = PartnershipRules.CanCreate(_device, number, hello.PartnershipsHeld, existing, host.Name, options.AllowReclaim);
        if (refusal is { Rule: "P5" } && options.AllowReclaim && existing!.RecoveryVerifier is not null && request.ReclaimProof.Length > 0)
        {
            await ReclaimAsync(registry, existing, request, challenge, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (refusal is not null)
        {
            throw new SessionRefusedException(refusal.Rule, refusal.Message);
        }

        if (request.Commitment.Length != 32)
        {
            throw new ProtocolViolationException("a partnership request carries a 32-byte commitment");
        }

        // The approval code's nonces: the device is bound to its nonce before it sees the host's.
        var hostNonce = RandomNumberGenerator.GetBytes(32);
        await _channel!.SendAsync(new Envelope { PartnerChallenge = new PartnerChallenge { HostNonce = Google.Protobuf.ByteString.CopyFrom(hostNonce) } }, cancellationToken).ConfigureAwait(false);
        var reveal = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (reveal.BodyCase != Envelope.BodyOneofCase.PartnerReveal)
        {
            throw new ProtocolViolationException($"expected the device's nonce, got {reveal.BodyCase}");
        }

        var deviceNonce = reveal.PartnerReveal.DeviceNonce.ToByteArray();
        if (deviceNonce.Length != 32 || !CryptographicOperations.FixedTimeEquals(SessionProof.Commit(deviceNonce), request.Commitment.Span))
        {
            throw new SessionRefusedException("approval", "the device's nonce does not match the commitment it made; partnership refused");
        }

        // Serial and USB devices are on a cable at the host: being there is the approval.
        if (!options.AutoApprove && link == "network")
        {
            var code = SessionProof.ApprovalCode(_certificateHash, deviceNonce, hostNonce, _device, number);
            await WaitForApprovalAsync(registry, number, code, cancellationToken).ConfigureAwait(false);
        }

        // An unconfirmed record (CanCreate let it through) is replaced; if it was confirmed or
        // taken meanwhile both writes fail (P5), if it was forgotten meanwhile the insert works.
        var verifier = request.RecoveryVerifier.Length == 32 ? request.RecoveryVerifier.ToByteArray() : null;
        var replaced = existing is { Confirmed: false } ? registry.TryReplaceUnconfirmed(_device, existing.Number, number, link, verifier) : null;
        var created = replaced ?? registry.TryCreate(_device, number, link, verifier)
            ?? throw new SessionRefusedException("P5", $"another device named {_device} partnered with this host a moment ago; rename this device");
        _number = number;
        if (replaced is not null)
        {
            HostLog.UnconfirmedReplaced(logger, Remote, _device.Value, new PartnershipNumber(existing!.Number).ToString(), new PartnershipNumber(number).ToString());
        }

        HostLog.PartnershipCreated(logger, Remote, _device.Value, new PartnershipNumber(number).ToString());
        await _channel!.SendAsync(new Envelope
        {
            SessionAccepted = new SessionAccepted
            {
                Number = number,
                NewSecret = Google.Protobuf.ByteString.CopyFrom(created.Secret),
                CreatedUnixMs = created.Created.ToUnixTimeMilliseconds(),
            },
        }, cancellationToken).ConfigureAwait(false);
        await ConfirmStoredAsync(registry, number, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the device's word that it stored the number and secret just sent, and only then
    /// confirms the record and goes on. Until then the record is unconfirmed: if the link drops
    /// or this host dies first, the device (which holds nothing) asks again and gets a new
    /// partnership instead of a P5 refusal nobody could resolve without the operator. A version 1
    /// device never says so, and backs up in this same session: its record is confirmed at once,
    /// as before version 2 (a record with snapshots must stay under P5/P7).
    /// </summary>
    private async Task ConfirmStoredAsync(PartnershipRegistry registry, uint number, CancellationToken cancellationToken)
    {
        var reply = _version < 2 ? null : await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        switch (reply?.BodyCase)
        {
            case null:
                break;
            case Envelope.BodyOneofCase.PartnershipStored when reply!.PartnershipStored.Number == number:
                break;
            case Envelope.BodyOneofCase.PartnershipStored:
                throw new ProtocolViolationException($"the device says it stored partnership {new PartnershipNumber(reply!.PartnershipStored.Number)}, not {new PartnershipNumber(number)}");
            case Envelope.BodyOneofCase.Goodbye:
                throw new LinkClosedException($"the device left before it stored the partnership: {reply!.Goodbye.Reason}");
            default:
                throw new ProtocolViolationException($"expected the device to confirm it stored the partnership, got {reply!.BodyCase}");
        }

        if (!registry.Confirm(_device, number))
        {
            throw new SessionRefusedException("P5", $"another device named {_device} asked this host for a partnership before this one confirmed it had stored its own, and took the name; rename this device");
        }

        HostLog.PartnershipConfirmed(logger, Remote, _device.Value, new PartnershipNumber(number).ToString(), reply is null ? "version 1 device" : "stored");
    }

    /// <summary>
    /// P9: the record keeps its name, creation time and snapshots and gets the device's new
    /// number and a fresh secret. The proof is bound to this session's challenge and to the
    /// certificate the device saw, and checked against the verifier stored at creation.
    /// </summary>
    private async Task ReclaimAsync(PartnershipRegistry registry, HostPartnership existing, PartnerRequest request, byte[] challenge, CancellationToken cancellationToken)
    {
        if (!SessionProof.VerifyReclaim(existing.RecoveryVerifier, challenge, _certificateHash, _device, request.Number, request.ReclaimProof.Span))
        {
            HostLog.ReclaimRefused(logger, Remote, _device.Value);
            throw new SessionRefusedException("reclaim", $"host {host.Name} allows reclaim, but this device did not prove the recovery key that {existing.Name} partnered with (number {new PartnershipNumber(existing.Number)}); the attempt is logged. If this really is {existing.Name}, its persistent state was replaced: rename it (cradle device name NEW), or ask the operator to release the name (cradle host forget {existing.Name} --keep-backups)");
        }

        var secret = registry.Reclaim(_device, existing.Number, request.Number, link)
            ?? throw new SessionRefusedException("P5", $"the record of {_device} changed during the reclaim; connect again");
        _number = request.Number;
        HostLog.Reclaimed(logger, Remote, _device.Value, new PartnershipNumber(existing.Number).ToString(), new PartnershipNumber(request.Number).ToString());
        await _channel!.SendAsync(new Envelope
        {
            SessionAccepted = new SessionAccepted
            {
                Number = request.Number,
                NewSecret = Google.Protobuf.ByteString.CopyFrom(secret),
                CreatedUnixMs = existing.Created.ToUnixTimeMilliseconds(),
                Reclaimed = true,
            },
        }, cancellationToken).ConfigureAwait(false);
        await ConfirmStoredAsync(registry, request.Number, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitForApprovalAsync(PartnershipRegistry registry, uint number, string code, CancellationToken cancellationToken)
    {
        registry.Add(new PendingPartnership(code, _device.Value, number, Remote, options.Time.GetUtcNow(), PendingState.Waiting));
        HostLog.WaitingForApproval(logger, Remote, _device.Value, code);
        _live.SetPhase("waiting-approval", code);
        try
        {
            await _channel!.SendAsync(new Envelope
            {
                PartnerPending = new PartnerPending { Code = code, TimeoutSeconds = (uint)options.ApprovalTimeout.TotalSeconds },
            }, cancellationToken).ConfigureAwait(false);
            var started = options.Time.GetTimestamp();
            while (true)
            {
                switch (registry.GetState(code))
                {
                    case PendingState.Approved:
                        return;
                    case PendingState.Denied:
                        throw new SessionRefusedException("approval", $"the host's operator denied the partnership with {_device}");
                    case null:
                        throw new SessionRefusedException("approval", $"the request for {_device} was withdrawn on the host");
                }

                if (options.Time.GetElapsedTime(started) > options.ApprovalTimeout)
                {
                    throw new SessionRefusedException("approval", $"nobody approved code {code} on the host within {options.ApprovalTimeout.TotalMinutes:0.#} minutes (cradle host approve {code})");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), options.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            registry.Remove(code);
        }
    }
}
