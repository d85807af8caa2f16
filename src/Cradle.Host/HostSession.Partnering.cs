using System.Security.Cryptography;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;

namespace Cradle.Host;

/// <summary>
/// A new partnership (rules P2–P5, P9's reclaim) and the operator's approval of a network one.
/// Until the device is approved and has stored its secret, the session holds its socket and
/// nothing else: the registry is opened for each check and write, and closed again.
/// </summary>
internal sealed partial class HostSession
{
    /// <summary>A message already being read (the approval wait listens for a device that leaves); the next receive takes it.</summary>
    private Task<Envelope>? _ahead;

    private PartnershipRegistry OpenRegistry() => PartnershipRegistry.Open(host.Store.Database, options.Time);

    /// <summary>The next message from the device: the one read ahead, if any, else a new one.</summary>
    private async Task<Envelope> ReceiveAsync(CancellationToken cancellationToken)
    {
        if (_ahead is { } ahead)
        {
            _ahead = null;
            return await ahead.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await _channel!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task CreatePartnershipAsync(DeviceHello hello, PartnerRequest request, byte[] challenge, CancellationToken cancellationToken)
    {
        var number = request.Number;
        if (request.RecoveryVerifier.Length is not 0 and not 32 || request.ReclaimProof.Length is not 0 and not 32)
        {
            throw new CradleProtocolException("a recovery verifier or reclaim proof is 32 bytes");
        }

        HostPartnership? existing;
        Refusal? refusal;
        using (var registry = OpenRegistry())
        {
            existing = registry.Find(_device);
            refusal = PartnershipRules.CanCreate(_device, number, hello.PartnershipsHeld, existing, host.Name, options.AllowReclaim);
        }

        if (refusal is { Rule: "P5" } && options.AllowReclaim && existing!.RecoveryVerifier is not null && request.ReclaimProof.Length > 0)
        {
            await ReclaimAsync(existing, request, challenge, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (refusal is not null)
        {
            throw new SessionRefusedException(refusal.Class, refusal.Message);
        }

        if (request.Commitment.Length != 32)
        {
            throw new CradleProtocolException("a partnership request carries a 32-byte commitment");
        }

        // The approval code's nonces: the device is bound to its nonce before it sees the host's.
        var hostNonce = RandomNumberGenerator.GetBytes(32);
        await _channel!.SendAsync(new Envelope { PartnerChallenge = new PartnerChallenge { HostNonce = Google.Protobuf.ByteString.CopyFrom(hostNonce) } }, cancellationToken).ConfigureAwait(false);
        var reveal = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (reveal.BodyCase != Envelope.BodyOneofCase.PartnerReveal)
        {
            throw new CradleProtocolException($"expected the device's nonce, got {reveal.BodyCase}");
        }

        var deviceNonce = reveal.PartnerReveal.DeviceNonce.ToByteArray();
        if (deviceNonce.Length != 32 || !CryptographicOperations.FixedTimeEquals(SessionProof.Commit(deviceNonce), request.Commitment.Span))
        {
            throw new SessionRefusedException(RefusalClass.Approval, "the device's nonce does not match the commitment it made; partnership refused");
        }

        // Serial and USB devices are on a cable at the host: being there is the approval.
        ApprovalBoard.Request? approved = null;
        if (!options.AutoApprove && link == "network")
        {
            var code = SessionProof.ApprovalCode(_certificateHash, deviceNonce, hostNonce, _device, number);
            approved = await WaitForApprovalAsync(number, code, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await MakePartnershipAsync(existing, number, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (approved is not null)
        {
            // `cradle host approve` waits for this: the operator approved, and no partnership came of it.
            host.Approvals.End(approved, PendingState.Failed, $"approved, but no partnership was made: {e.Message}");
            throw;
        }

        if (approved is not null)
        {
            host.Approvals.End(approved, PendingState.Created, $"partnership created with {_device}: number {new PartnershipNumber(number)}");
        }
    }

    /// <summary>Records the new partnership, sends its secret, and waits for the device to say it stored it.</summary>
    private async Task MakePartnershipAsync(HostPartnership? existing, uint number, PartnerRequest request, CancellationToken cancellationToken)
    {
        // An unconfirmed record (CanCreate let it through) is replaced; if it was confirmed or
        // taken meanwhile both writes fail (P5), if it was forgotten meanwhile the insert works.
        var verifier = request.RecoveryVerifier.Length == 32 ? request.RecoveryVerifier.ToByteArray() : null;
        HostPartnership created;
        HostPartnership? replaced;
        using (var registry = OpenRegistry())
        {
            replaced = existing is { Confirmed: false } ? registry.TryReplaceUnconfirmed(_device, existing.Number, number, link, verifier) : null;
            created = replaced ?? registry.TryCreate(_device, number, link, verifier)
                ?? throw new SessionRefusedException(RefusalClass.P5, $"another device named {_device} partnered with this host a moment ago; rename this device");
        }

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
        await ConfirmStoredAsync(number, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the device's word that it stored the number and secret just sent, and only then
    /// confirms the record and goes on. Until then the record is unconfirmed: if the link drops
    /// or this host dies first, the device (which holds nothing) asks again and gets a new
    /// partnership instead of a P5 refusal nobody could resolve without the operator. A version 1
    /// device never says so, and backs up in this same session: its record is confirmed at once,
    /// as before version 2 (a record with snapshots must stay under P5/P7).
    /// </summary>
    private async Task ConfirmStoredAsync(uint number, CancellationToken cancellationToken)
    {
        var reply = _version < 2 ? null : await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        switch (reply?.BodyCase)
        {
            case null:
                break;
            case Envelope.BodyOneofCase.PartnershipStored when reply!.PartnershipStored.Number == number:
                break;
            case Envelope.BodyOneofCase.PartnershipStored:
                throw new CradleProtocolException($"the device says it stored partnership {new PartnershipNumber(reply!.PartnershipStored.Number)}, not {new PartnershipNumber(number)}");
            case Envelope.BodyOneofCase.Goodbye:
                throw new LinkClosedException($"the device left before it stored the partnership: {reply!.Goodbye.Reason}");
            default:
                throw new CradleProtocolException($"expected the device to confirm it stored the partnership, got {reply!.BodyCase}");
        }

        using var registry = OpenRegistry();
        if (!registry.Confirm(_device, number))
        {
            throw new SessionRefusedException(RefusalClass.P5, $"another device named {_device} asked this host for a partnership before this one confirmed it had stored its own, and took the name; rename this device");
        }

        HostLog.PartnershipConfirmed(logger, Remote, _device.Value, new PartnershipNumber(number).ToString(), reply is null ? "version 1 device" : "stored");
    }

    /// <summary>
    /// P9: the record keeps its name, creation time and snapshots and gets the device's new
    /// number and a fresh secret. The proof is bound to this session's challenge and to the
    /// certificate the device saw, and checked against the verifier stored at creation.
    /// </summary>
    private async Task ReclaimAsync(HostPartnership existing, PartnerRequest request, byte[] challenge, CancellationToken cancellationToken)
    {
        if (!SessionProof.VerifyReclaim(existing.RecoveryVerifier, challenge, _certificateHash, _device, request.Number, request.ReclaimProof.Span))
        {
            HostLog.ReclaimRefused(logger, Remote, _device.Value);
            throw new SessionRefusedException(RefusalClass.Reclaim, $"host {host.Name} allows reclaim, but this device did not prove the recovery key that {existing.Name} partnered with (number {new PartnershipNumber(existing.Number)}); the attempt is logged. If this really is {existing.Name}, its persistent state was replaced: rename it (cradle device name NEW), or ask the operator to release the name (cradle host forget {existing.Name} --keep-backups)");
        }

        byte[] secret;
        using (var registry = OpenRegistry())
        {
            secret = registry.Reclaim(_device, existing.Number, request.Number, link)
                ?? throw new SessionRefusedException(RefusalClass.P5, $"the record of {_device} changed during the reclaim; connect again");
        }

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
        await ConfirmStoredAsync(request.Number, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts the request on the host's approval board and waits for the operator, the timeout, or
    /// the device: a device that leaves (or speaks out of turn) while it waits ends its request
    /// at once. Returns the request when approved; the caller reports what became of it.
    /// </summary>
    private async Task<ApprovalBoard.Request> WaitForApprovalAsync(uint number, string code, CancellationToken cancellationToken)
    {
        var request = host.Approvals.Add(code, _device.Value, number, Remote)
            ?? throw new CradleException($"another partnership request waits under code {code} on this host (a one-in-a-million coincidence); connect again for a new code", isTransient: true);
        HostLog.WaitingForApproval(logger, Remote, _device.Value, code);
        _live.SetPhase("waiting-approval", code);
        var (endState, endReason) = (PendingState.Gone, "the session ended before anyone decided; nothing was created");
        using var waitOver = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await _channel!.SendAsync(new Envelope
            {
                PartnerPending = new PartnerPending { Code = code, TimeoutSeconds = (uint)options.ApprovalTimeout.TotalSeconds },
            }, cancellationToken).ConfigureAwait(false);

            // The device has nothing to say until the host answers: whatever it says, or its link
            // closing, ends the wait. Keepalive pings are answered inside the read.
            _ahead = _channel.ReceiveAsync(cancellationToken).AsTask();
            var timeout = Task.Delay(options.ApprovalTimeout, options.Time, waitOver.Token);
            var first = await Task.WhenAny(request.Decision, _ahead, timeout).ConfigureAwait(false);
            if (first == request.Decision)
            {
                var (state, why) = await request.Decision.ConfigureAwait(false);
                switch (state)
                {
                    case PendingState.Approved:
                        endReason = null;
                        return request;
                    case PendingState.Denied:
                        (endState, endReason) = (PendingState.Denied, $"denied by the operator; no partnership with {_device}");
                        throw new SessionRefusedException(RefusalClass.Approval, $"the host's operator denied the partnership with {_device}");
                    default:
                        endReason = $"withdrawn: {why}";
                        throw new SessionRefusedException(RefusalClass.Approval, $"the request for {_device} was withdrawn on the host: {why}");
                }
            }

            if (first == _ahead)
            {
                var left = await DescribeLeavingAsync(_ahead).ConfigureAwait(false);
                _ahead = null;
                HostLog.PendingGone(logger, Remote, _device.Value, code, left);
                endReason = $"the device left before anyone decided ({left}); nothing was created";
                throw new LinkClosedException($"the device left while its partnership waited for approval: {left}");
            }

            await timeout.ConfigureAwait(false);
            endReason = $"nobody approved it within {options.ApprovalTimeout.TotalMinutes:0.#} minutes; nothing was created";
            throw new SessionRefusedException(RefusalClass.Approval, $"nobody approved code {code} on the host within {options.ApprovalTimeout.TotalMinutes:0.#} minutes (cradle host approve {code})");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            endReason = "the host stopped before anyone decided; nothing was created";
            throw;
        }
        finally
        {
            await waitOver.CancelAsync().ConfigureAwait(false);
            if (endReason is not null)
            {
                // Off the board at once, and the row says why (host approve reports it).
                host.Approvals.End(request, endState, endReason);
            }
        }
    }

    /// <summary>What the device did instead of waiting: left (with its goodbye), dropped the link, or spoke out of turn.</summary>
    private static async Task<string> DescribeLeavingAsync(Task<Envelope> ahead)
    {
        try
        {
            var message = await ahead.ConfigureAwait(false);
            return message.BodyCase == Envelope.BodyOneofCase.Goodbye
                ? $"it said goodbye: {WireText.Clean(message.Goodbye.Reason)}"
                : $"it sent {message.BodyCase} while waiting";
        }
        catch (Exception e) when (e is LinkClosedException or CradleProtocolException or IOException)
        {
            return $"its link closed ({WireText.Clean(e.Message)})";
        }
    }
}
