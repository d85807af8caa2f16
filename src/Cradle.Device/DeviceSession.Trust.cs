using Cradle.Protocol;
using Cradle.Protocol.Messages;

namespace Cradle.Device;

/// <summary>
/// The device trusts a host once (issue 19). A new network partnership needs this device's
/// consent as well as the host operator's — the same six-digit code on both screens: the user
/// accepts it at the prompt, or with <c>--accept-new-host CODE</c>; without either the host's
/// partnership is kept as a candidate, unused, until a later connect accepts it (the code does not
/// change). A different host where a pinned one lived is refused, loudly, as SSH refuses a changed
/// host key. Serial and USB partnerships need no consent (the cable is the proof), but never
/// silently replace a pinned host either.
/// </summary>
public sealed partial class DeviceSession
{
    /// <summary>
    /// Refuses a host that is not the one this device partnered with at this address: another
    /// host id where a slot was made (the same id with another certificate is the pin's own refusal).
    /// </summary>
    private async Task RefuseAnotherHostWherePinnedAsync(List<PartnershipSlot> slots, HostRoute route, string hostId, byte[] certificateHash)
    {
        var address = route.ToString();
        var pinned = slots.FirstOrDefault(s => s.Address == address && s.HostId != hostId);
        if (pinned is null)
        {
            return;
        }

        await SayGoodbyeAsync("this is not the host this device partnered with").ConfigureAwait(false);
        var since = DateTimeOffset.FromUnixTimeMilliseconds(pinned.CreatedUnixMs).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        throw new SessionRefusedException(RefusalClass.Pin,
            $"this is not the host you partnered with: at {address} this device partnered with {pinned.HostName} (host id {pinned.HostId}, certificate sha256 {pinned.CertificateSha256[..16]}…, since {since}), " +
            $"but the host answering there now calls itself '{HostName}' and has another id (host id {hostId}) and another certificate (sha256 {SessionProof.Fingerprint(certificateHash)[..16]}…). " +
            $"It may be an impostor: nothing was sent to it. If {pinned.HostName} was really replaced or reinstalled, end the old partnership on this device first " +
            $"({DeviceCommandLine.Of($"end-partnership {pinned.HostName}")}), then connect again and accept the new host");
    }

    /// <summary>
    /// Asks the user about a new host while the host's operator decides; true at once when the link
    /// needs no consent or it was given in advance (<see cref="DeviceOptions.AcceptNewHost"/>).
    /// </summary>
    private Task<bool?> AskUserAsync(NewHost host, HostRoute route, CancellationToken cancellationToken) =>
        !route.Kind.Equals("network", StringComparison.Ordinal) || _options.AcceptNewHost == DeviceOptions.AnyHost || _options.AcceptNewHost == host.Code
            ? Task.FromResult<bool?>(true)
            : _observer.ConfirmNewHostAsync(host, cancellationToken);

    /// <summary>This device's consent to <paramref name="host"/>: true given, false refused by the user, null not given (yet).</summary>
    private async Task<bool?> ConsentAsync(NewHost host, HostRoute route, Task<bool?> asked, CancellationToken cancellationToken)
    {
        if (!route.Kind.Equals("network", StringComparison.Ordinal) || _options.AcceptNewHost == DeviceOptions.AnyHost || _options.AcceptNewHost == host.Code)
        {
            return true;
        }

        return await asked.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a new partnership this device has not accepted: refused by the user, nothing is kept;
    /// not asked, it is kept as the candidate (unused) for <c>--accept-new-host CODE</c>. Either way
    /// the host hears goodbye before anything was sent, and its record stays unconfirmed.
    /// </summary>
    private async Task<Exception> WithoutConsentAsync(PartnershipsFile held, string hostId, HostRoute route, byte[] certificateHash, PartnershipNumber number, SessionAccepted accepted, NewHost host, bool refused)
    {
        if (refused)
        {
            await SayGoodbyeAsync("this device's user did not accept the host").ConfigureAwait(false);
            return new SessionRefusedException(RefusalClass.Consent, $"you did not accept {host.Name} at {route}: no partnership was made and nothing was sent");
        }

        var candidate = NewSlot(hostId, route, certificateHash, number, accepted) with { Code = host.Code };
        _state.SavePartnerships(held with { Candidate = candidate });
        await SayGoodbyeAsync("waiting for this device's user to accept the host").ConfigureAwait(false);
        return new SessionRefusedException(RefusalClass.Consent, NotAcceptedYet(host, route));
    }

    /// <summary>What the user must do to accept a host, said once and for all (the code stays the same).</summary>
    private string NotAcceptedYet(NewHost host, HostRoute route)
    {
        var given = _options.AcceptNewHost is { } code && code != host.Code ? $"the code given ({WireText.Clean(code)}) is not this host's; " : "";
        var check = host.Reclaim
            ? $"{host.Name} at {route} took back this device's old partnership (a reclaim) and shows no code: check that its certificate is sha256 {host.Fingerprint} ('cradle host run' prints it there)"
            : $"new host {host.Name} at {route} shows code {host.Code}: check that the host shows the same code (cradle host pending there, or its log)";
        return $"{given}this device sends nothing to a host you have not accepted. {check}, then run this command again with --accept-new-host {host.Code}; nothing was sent";
    }

    /// <summary>
    /// A session with the host of the waiting candidate: with the user's consent now, the device
    /// authenticates with it (the host confirms the partnership) and it becomes a slot; without,
    /// the device says goodbye and the same code is asked for again.
    /// </summary>
    private async Task AcceptCandidateAsync(PartnershipsFile held, DeviceName name, HostHello hello, HostRoute route, byte[] certificateHash, CancellationToken cancellationToken)
    {
        var candidate = held.Candidate!;
        var host = new NewHost(HostName, route, candidate.Code!, SessionProof.Fingerprint(certificateHash), Reclaim: false);
        var consent = await ConsentAsync(host, route, AskUserAsync(host, route, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (consent != true)
        {
            if (consent == false)
            {
                _state.SavePartnerships(held with { Candidate = null });
            }

            await SayGoodbyeAsync(consent == false ? "this device's user did not accept the host" : "waiting for this device's user to accept the host").ConfigureAwait(false);
            throw new SessionRefusedException(RefusalClass.Consent, consent == false ? $"you did not accept {host.Name} at {route}: its partnership was dropped on this device; nothing was sent" : NotAcceptedYet(host, route));
        }

        if (DevicePartnerships.CanAdd(held.Slots, HostName) is { } full)
        {
            await SayGoodbyeAsync("P3: no free partnership slot").ConfigureAwait(false);
            throw new SessionRefusedException(RefusalClass.P3, full);
        }

        try
        {
            // The pin and the proof as for any slot; the host confirms the partnership on it.
            await AuthenticateAsync(candidate, name, hello, certificateHash, cancellationToken).ConfigureAwait(false);
        }
        catch (SessionRefusedException e) when (e.Class is RefusalClass.P4 or RefusalClass.P5 or RefusalClass.Auth)
        {
            // The host no longer holds it (another request replaced it, or the operator forgot it).
            _state.SavePartnerships(held with { Candidate = null });
            throw;
        }

        await StoreSlotAsync(held.Slots, candidate, reclaimed: false, tellHost: false, cancellationToken).ConfigureAwait(false);
    }
}
