using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.Device;

/// <summary>
/// A device's session with one host: link, TLS, hello, partnership (authenticate with the
/// pinned certificate and the secret, or create one under rules P1–P8), then backups.
/// </summary>
public sealed partial class DeviceSession : IAsyncDisposable
{
    private readonly DeviceState _state;
    private readonly DeviceOptions _options;
    private readonly ISessionObserver _observer;
    private readonly MessageChannel _channel;
    private readonly CountingStream _wire;
    private readonly DeviceIdentity _identity;
    private uint _version = ProtocolVersion.Current; // the host's answer: the version this session speaks

    private DeviceSession(DeviceState state, DeviceOptions options, ISessionObserver observer, MessageChannel channel, CountingStream wire, DeviceIdentity identity, string link)
    {
        _state = state;
        _options = options;
        _observer = observer;
        _channel = channel;
        _wire = wire;
        _identity = identity;
        Link = link;
    }

    public string Link { get; }

    /// <summary>The partnership this session runs under; null for a guest.</summary>
    public PartnershipSlot? Slot { get; private set; }

    /// <summary>The host's name as it introduced itself.</summary>
    public string HostName { get; private set; } = "";

    /// <summary>True when this session made the partnership (rather than authenticating an existing one).</summary>
    public bool CreatedPartnership { get; private set; }

    /// <summary>True when this session took back the device's old record on the host with the recovery key (P9).</summary>
    public bool Reclaimed { get; private set; }

    /// <summary>True when the host serves this device as a guest (P3): no backup; restore with consent.</summary>
    public bool IsGuest { get; private set; }

    public long WireBytesSent => _wire.BytesWritten;

    public long WireBytesReceived => _wire.BytesRead;

    /// <summary>Opens the link, then establishes the partnership (or, by <paramref name="mode"/>, a guest session).</summary>
    public static async Task<DeviceSession> ConnectAsync(DeviceState state, HostRoute route, DeviceOptions options, ISessionObserver observer, CancellationToken cancellationToken, SessionMode mode = SessionMode.Partner)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var identity = options.Select(state.LoadIdentity());
        var stream = await route.OpenAsync(identity.Name, options, observer, cancellationToken).ConfigureAwait(false);
        var wire = new CountingStream(stream);
        TlsSession tls;
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            handshake.CancelAfter(options.ConnectTimeout);
            PinnedTrust.Apply();
            try
            {
                tls = await Tls.ConnectAsync(wire, handshake.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A host that accepted the connection (its kernel did) but does not answer: stopped, hung, overloaded.
                await wire.DisposeAsync().ConfigureAwait(false);
                throw new LinkClosedException($"the host at {route} did not finish the TLS handshake within {options.ConnectTimeout.TotalSeconds:0} s (connect timeout): it is not answering");
            }
            catch (LinkClosedException e) when (NotTls(wire.FirstBytes) is { } heard)
            {
                throw new NotACradleHostException($"{route} is not a Cradle host: it answered {heard} instead of starting TLS; check the address and port (a Cradle host listens on {LinkAddress.DefaultPort} unless told otherwise)", e);
            }
        }

        // The link below knows what the message layer cannot: a serial line whose frames are
        // acknowledged though a noisy line holds a message back; a TCP peer that takes no bytes.
        var channel = new MessageChannel(tls.Stream, options.Channel, wire);
        var session = new DeviceSession(state, options, observer, channel, wire, identity, route.Kind);
        try
        {
            await session.HandshakeAsync(route, tls, mode, cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// What the peer said, in words, when its first bytes are not a TLS record (handshake 0x16 or
    /// alert 0x15, version 3.x): a web server's "HTTP/1.1 400", an SSH banner. Null when it said
    /// nothing, or spoke TLS: then the link, not the address, is what failed.
    /// </summary>
    private static string? NotTls(ReadOnlySpan<byte> first)
    {
        if (first.Length == 0 || (first[0] is 0x15 or 0x16 && (first.Length < 2 || first[1] == 3)))
        {
            return null;
        }

        var printable = first.ToArray().All(b => b is >= 0x20 and < 0x7f or (byte)'\r' or (byte)'\n');
        if (!printable)
        {
            return $"{first.Length} bytes that are not TLS";
        }

        var line = System.Text.Encoding.ASCII.GetString(first).Split('\n')[0].TrimEnd('\r');
        return $"'{WireText.CleanAtMost(line, 40)}'";
    }

    private async Task HandshakeAsync(HostRoute route, TlsSession tls, SessionMode mode, CancellationToken cancellationToken)
    {
        var certificateHash = tls.PeerCertificateHash;
        var name = DeviceName.Parse(_identity.Name);
        var held = _state.LoadPartnerships();
        var slots = held.Slots;
        await _channel.SendAsync(new Envelope
        {
            DeviceHello = new DeviceHello
            {
                // The oldest first: a host that knows one version only (0.4) reads this field
                // and serves the session in it; newer hosts pick the newest both speak.
                ProtocolVersion = ProtocolVersion.Oldest,
                NewestProtocolVersion = ProtocolVersion.Current,
                DeviceName = name.Value,
                Model = _identity.Model,
                PartnershipsHeld = (uint)slots.Count,
                Software = "cradle " + typeof(DeviceSession).Assembly.GetName().Version,
            },
        }, cancellationToken).ConfigureAwait(false);

        HostHello hello;
        try
        {
            hello = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.HostHello).HostHello;
        }
        catch (Exception e) when (e is CradleProtocolException or LinkClosedException && !tls.LooksLikeCradleHost)
        {
            // A TLS service that is not Cradle (a web server on 443): its answer to the hello is
            // no frame of ours, or none at all. Its certificate says whose it is.
            throw new NotACradleHostException($"{route} is not a Cradle host: it speaks TLS, but its certificate is '{WireText.CleanAtMost(tls.PeerSubject, 80)}' and it did not answer Cradle's hello; check the address and port (a Cradle host listens on {LinkAddress.DefaultPort} unless told otherwise)", e);
        }

        if (hello.ProtocolVersion is < ProtocolVersion.Oldest or > ProtocolVersion.Current)
        {
            throw new SessionRefusedException(RefusalClass.Version, $"the host speaks protocol version {hello.ProtocolVersion}; this device speaks versions {ProtocolVersion.Oldest} to {ProtocolVersion.Current}: update the older side");
        }

        _version = hello.ProtocolVersion;

        if (hello.HostId.Length != 16 || hello.Challenge.Length != 32)
        {
            throw new CradleProtocolException("the host's hello has a malformed id or challenge");
        }

        HostName = WireText.Clean(hello.HostName);
        var hostId = Convert.ToHexStringLower(hello.HostId.Span);
        var slot = slots.FirstOrDefault(s => s.HostId == hostId);
        if (slot is null && mode != SessionMode.Guest)
        {
            // Trust a host once: another host where a pinned one lived is refused, loudly.
            await RefuseAnotherHostWherePinnedAsync(slots, route, hostId, certificateHash).ConfigureAwait(false);
        }

        if (mode == SessionMode.Guest || (mode == SessionMode.PartnerOrGuest && slot is null))
        {
            await BeGuestAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (slot is not null)
        {
            await AuthenticateAsync(slot, name, hello, certificateHash, cancellationToken).ConfigureAwait(false);
        }
        else if (held.Candidate is { } candidate && candidate.HostId == hostId)
        {
            await AcceptCandidateAsync(held, name, hello, route, certificateHash, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await PartnerAsync(held, name, hello, hostId, route, certificateHash, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task BeGuestAsync(CancellationToken cancellationToken)
    {
        await _channel.SendAsync(new Envelope { GuestRequest = new GuestRequest { Reason = "guest" } }, cancellationToken).ConfigureAwait(false);
        var accepted = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.SessionAccepted).SessionAccepted;
        if (!accepted.Guest)
        {
            throw new CradleProtocolException("the host answered a guest request with a partnership");
        }

        IsGuest = true;
    }

    private async Task AuthenticateAsync(PartnershipSlot slot, DeviceName name, HostHello hello, byte[] certificateHash, CancellationToken cancellationToken)
    {
        if (!string.Equals(slot.CertificateSha256, Convert.ToHexStringLower(certificateHash), StringComparison.Ordinal))
        {
            await SayGoodbyeAsync("certificate mismatch").ConfigureAwait(false);
            throw new SessionRefusedException(RefusalClass.Pin, $"the host claiming to be {slot.HostName} shows a different certificate than when the partnership was made; it may be an impostor. Nothing was sent. If the host was reinstalled, end the partnership on this device ({DeviceCommandLine.Of($"end-partnership {slot.HostName}")}) and partner again");
        }

        var secret = Convert.FromBase64String(slot.Secret);
        var proof = SessionProof.Compute(secret, hello.Challenge.Span, certificateHash, name);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
        await _channel.SendAsync(new Envelope
        {
            Authenticate = new Authenticate { Number = slot.Number, Proof = ByteString.CopyFrom(proof) },
        }, cancellationToken).ConfigureAwait(false);
        var accepted = Expect(await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.SessionAccepted).SessionAccepted;
        if (accepted.Number != slot.Number)
        {
            throw new CradleProtocolException("the host accepted a different partnership number");
        }

        Slot = slot;
    }

    private async Task PartnerAsync(PartnershipsFile held, DeviceName name, HostHello hello, string hostId, HostRoute route, byte[] certificateHash, CancellationToken cancellationToken)
    {
        var slots = held.Slots;
        var full = DevicePartnerships.CanAdd(slots, HostName);
        if (full is not null)
        {
            await SayGoodbyeAsync("P3: no free partnership slot").ConfigureAwait(false);
            throw new SessionRefusedException(RefusalClass.P3, full);
        }

        var number = DevicePartnerships.NewNumber(slots);
        var deviceNonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

        // The verifier lets this host check a reclaim after a cold boot (P9); the proof is used
        // only by a host that already holds this name's record, its verifier and --allow-reclaim.
        var recoveryKey = Convert.FromBase64String(_identity.RecoveryKey);
        var verifier = SessionProof.RecoveryVerifier(recoveryKey, hello.HostId.Span, certificateHash, name);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(recoveryKey);
        var reclaimProof = SessionProof.ReclaimProof(verifier, hello.Challenge.Span, certificateHash, name, number.Value);
        await _channel.SendAsync(new Envelope
        {
            PartnerRequest = new PartnerRequest
            {
                Number = number.Value,
                Commitment = ByteString.CopyFrom(SessionProof.Commit(deviceNonce)),
                RecoveryVerifier = ByteString.CopyFrom(verifier),
                ReclaimProof = ByteString.CopyFrom(reclaimProof),
            },
        }, cancellationToken).ConfigureAwait(false);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(verifier);
        var first = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (first.BodyCase == Envelope.BodyOneofCase.Refusal && Refusals.ClassOf(first.Refusal) == RefusalClass.P5)
        {
            throw new SessionRefusedException(RefusalClass.P5, WireText.Clean(first.Refusal.Message) + "; " + DevicePartnerships.WhatRenameEnds(slots));
        }

        if (first.BodyCase == Envelope.BodyOneofCase.SessionAccepted && first.SessionAccepted.Reclaimed)
        {
            // No code crossed (a reclaim needs no approval): the consent rests on the certificate's fingerprint.
            var reclaim = new NewHost(HostName, route, SessionProof.CertificateCode(certificateHash), SessionProof.Fingerprint(certificateHash), Reclaim: true);
            var reclaimConsent = await ConsentAsync(reclaim, route, AskUserAsync(reclaim, route, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (reclaimConsent != true)
            {
                throw await WithoutConsentAsync(held, hostId, route, certificateHash, number, first.SessionAccepted, reclaim, refused: reclaimConsent == false).ConfigureAwait(false);
            }

            Reclaimed = true;
            await SaveNewSlotAsync(slots, hello, hostId, route, certificateHash, number, first.SessionAccepted, cancellationToken).ConfigureAwait(false);
            return;
        }

        var challenge = Expect(first, Envelope.BodyOneofCase.PartnerChallenge).PartnerChallenge;
        if (challenge.HostNonce.Length != 32)
        {
            throw new CradleProtocolException("the host's partnership nonce is not 32 bytes");
        }

        await _channel.SendAsync(new Envelope { PartnerReveal = new PartnerReveal { DeviceNonce = ByteString.CopyFrom(deviceNonce) } }, cancellationToken).ConfigureAwait(false);

        // The code both screens show; this device asks its own user about it while the host asks its operator.
        var code = SessionProof.ApprovalCode(certificateHash, deviceNonce, challenge.HostNonce.Span, name, number.Value);
        var newHost = new NewHost(HostName, route, code, SessionProof.Fingerprint(certificateHash), Reclaim: false);
        using var asking = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var asked = AskUserAsync(newHost, route, asking.Token);
        var reply = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (reply.BodyCase == Envelope.BodyOneofCase.PartnerPending)
        {
            if (reply.PartnerPending.Code != code)
            {
                throw new CradleProtocolException("the host's approval code does not match the one this device computes");
            }

            DeviceEngineLog.WaitingForApproval(_options.Logger, HostName, code);
            _observer.ApprovalCode(HostName, code, TimeSpan.FromSeconds(reply.PartnerPending.TimeoutSeconds));
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(_options.ApprovalWait);
            var answer = _channel.ReceiveAsync(wait.Token).AsTask();
            if (await Task.WhenAny(answer, asked).ConfigureAwait(false) == asked && await asked.ConfigureAwait(false) == false)
            {
                // The user said no: nothing more to wait for.
                await SayGoodbyeAsync("this device's user did not accept the host").ConfigureAwait(false);
                throw new SessionRefusedException(RefusalClass.Consent, $"you did not accept {HostName} at {route}: no partnership was made and nothing was sent");
            }

            try
            {
                reply = await answer.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The host refuses by itself after its own approval timeout; no word at all means it is gone.
                throw new LinkClosedException($"the host said nothing about the partnership request for {_options.ApprovalWait.TotalMinutes:0} min");
            }
        }

        var accepted = Expect(reply, Envelope.BodyOneofCase.SessionAccepted).SessionAccepted;
        var consent = await ConsentAsync(newHost, route, asked, cancellationToken).ConfigureAwait(false);
        if (consent != true)
        {
            throw await WithoutConsentAsync(held, hostId, route, certificateHash, number, accepted, newHost, refused: consent == false).ConfigureAwait(false);
        }

        await asking.CancelAsync().ConfigureAwait(false);
        await SaveNewSlotAsync(slots, hello, hostId, route, certificateHash, number, accepted, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores the new slot durably (fsync), then tells the host so: the host keeps the
    /// partnership unconfirmed — replaceable by this name's next request — until it hears this,
    /// so a link that drops before the save cannot leave the device locked out by P5.
    /// </summary>
    private async Task SaveNewSlotAsync(List<PartnershipSlot> slots, HostHello hello, string hostId, HostRoute route, byte[] certificateHash, PartnershipNumber number, SessionAccepted accepted, CancellationToken cancellationToken)
    {
        var slot = NewSlot(hostId, route, certificateHash, number, accepted);
        await StoreSlotAsync(slots, slot, accepted.Reclaimed, tellHost: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The slot a host's answer makes (checked: its number, a 32-byte secret).</summary>
    private PartnershipSlot NewSlot(string hostId, HostRoute route, byte[] certificateHash, PartnershipNumber number, SessionAccepted accepted)
    {
        if (accepted.Number != number.Value || accepted.NewSecret.Length != 32)
        {
            throw new CradleProtocolException("the host's partnership answer has a wrong number or a malformed secret");
        }

        return new PartnershipSlot
        {
            HostId = hostId,
            HostName = HostName,
            Address = route.ToString()!,
            Number = number.Value,
            Secret = Convert.ToBase64String(accepted.NewSecret.Span),
            CertificateSha256 = Convert.ToHexStringLower(certificateHash),
            // A reclaimed slot is new on the device (the newest, for P6), though the host's record is old.
            CreatedUnixMs = accepted.CreatedUnixMs != 0 && !accepted.Reclaimed ? accepted.CreatedUnixMs : _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
    }

    /// <summary>
    /// Saves a slot the user accepted (a candidate waiting for consent goes with it) and, for a
    /// partnership made in this session, tells the host it is stored (a candidate's host learns it
    /// from the authentication instead).
    /// </summary>
    private async Task StoreSlotAsync(List<PartnershipSlot> slots, PartnershipSlot slot, bool reclaimed, bool tellHost, CancellationToken cancellationToken)
    {
        var number = new PartnershipNumber(slot.Number);
        slot = slot with { Code = null };
        _state.SavePartnerships(new PartnershipsFile { Slots = [.. slots, slot] });
        if (tellHost && _version >= 2)
        {
            // Version 1 hosts do not know the message (and confirm the partnership at once).
            await _channel.SendAsync(new Envelope { PartnershipStored = new PartnershipStored { Number = number.Value } }, cancellationToken).ConfigureAwait(false);
        }

        Slot = slot;
        CreatedPartnership = true;
        if (reclaimed)
        {
            DeviceEngineLog.Reclaimed(_options.Logger, slot.HostName, number.ToString());
            _observer.Notice($"reclaimed the partnership with {slot.HostName} with this device's recovery key: same name, same backup history, new number {number}; no rename, other partnerships untouched");
        }
        else
        {
            DeviceEngineLog.Partnered(_options.Logger, slot.HostName, number.ToString());
            _observer.PartnershipCreated(slot);
        }
    }

    /// <summary>
    /// While the session is idle: waits for the host, answering its pings. It ends only by
    /// failing: the host went silent for the keepalive timeout (stopped, suspended, gone with
    /// its link), ended the session, or sent what it should not. Cancelling it only stops the
    /// wait: the receive goes on, and a backup started next takes what it brings.
    /// </summary>
    public async Task ListenWhileIdleAsync(CancellationToken cancellationToken)
    {
        Envelope message;
        try
        {
            message = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (LinkClosedException e)
        {
            throw new LinkClosedException($"the host stopped answering while the session was idle: {e.Message}", e);
        }

        throw message.BodyCase is Envelope.BodyOneofCase.Goodbye or Envelope.BodyOneofCase.Refusal
            ? ExpectFailure(message, Envelope.BodyOneofCase.None)
            : new CradleProtocolException($"the host sent {message.BodyCase} while the session was idle");
    }

    /// <summary>Ends the session politely: the host knows it was on purpose.</summary>
    public async Task SayGoodbyeAsync(string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _channel.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = reason } }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LinkClosedException or OperationCanceledException)
        {
            // Already gone: a goodbye is a courtesy.
        }
    }

    /// <summary>Turns a host's refusal or goodbye into the matching exception; checks the expected message.</summary>
    private static Envelope Expect(Envelope message, Envelope.BodyOneofCase expected)
    {
        if (message.BodyCase == expected)
        {
            return message;
        }

        throw ExpectFailure(message, expected);
    }

    private static Exception ExpectFailure(Envelope message, Envelope.BodyOneofCase expected) =>
        message.BodyCase switch
        {
            // The rule, the message and the reason are the host's words: sanitised before anyone shows them.
            // Transient or not by its class (a busy host, a full disk: the agent tries again later).
            Envelope.BodyOneofCase.Refusal => Refusals.ToException(message.Refusal),
            Envelope.BodyOneofCase.Goodbye => new LinkClosedException($"the host ended the session: {WireText.Clean(message.Goodbye.Reason)}"),
            _ => new CradleProtocolException($"expected {expected} from the host, got {message.BodyCase}"),
        };

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}

/// <summary>What a device asks of a host when it connects.</summary>
public enum SessionMode
{
    /// <summary>Authenticate the partnership, or make one (rules P1–P8).</summary>
    Partner,

    /// <summary>A guest session (P3) whatever the device holds: status, restore with consent, no backup.</summary>
    Guest,

    /// <summary>Authenticate when the device holds a partnership with this host, else a guest session (restore).</summary>
    PartnerOrGuest,
}
