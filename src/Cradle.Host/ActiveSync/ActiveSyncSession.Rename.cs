using Cradle.ActiveSync;
using Cradle.ActiveSync.Partners;
using Cradle.Protocol;

namespace Cradle.Host.ActiveSync;

/// <summary>
/// Renaming the device from the host (<c>HKLM\Ident\Name</c>), with the operator's consent: the
/// one-step way out of a P5 refusal for a fleet of devices under one default name, and P8 —
/// renaming ends every partnership the device holds, because a partnership is defined by the name.
/// </summary>
internal sealed partial class ActiveSyncSession
{
    /// <summary>True once a rename touched the device: this connection no longer says who it is.</summary>
    private bool _renamed;

    /// <summary>
    /// Runs a rename on a RAPI session of its own. Returns how this connection ends when the device
    /// was touched (its info message carries the old name, so the session ends and the device is
    /// triggered again to partner under the new one), or null when nothing was written and the
    /// session goes on.
    /// </summary>
    private async Task<string?> RunRenameAsync(RenameJob job, CancellationToken cancellationToken)
    {
        if (job.Cancellation.IsCancellationRequested)
        {
            job.Done.TrySetCanceled(job.Cancellation);
            return null;
        }

        var oldName = _device;
        try
        {
            // P5 again at the device's turn: another device may have partnered under that name
            // since the operator asked.
            host.RefuseHeldName(job.NewName);
            ActiveSyncHostLog.RenameStarted(logger, Remote, oldName.Value, job.NewName.Value, Standing ?? "?");
            ActiveSyncPartners partners;
            // The operator's Ctrl-C is not honoured once the device is being written: the few calls
            // run to the end, so a rename is not left half done by a cancelled request.
            await using (var rapi = await channel.OpenRapiSessionAsync(cancellationToken).ConfigureAwait(false))
            {
                partners = await ActiveSyncPartnerships.ReadAsync(rapi, cancellationToken).ConfigureAwait(false);
                _renamed = true;
                // The slots before the name: a link lost in between leaves the device under its old
                // name holding no partnership (the host refuses it by P5 and the rename can be asked
                // again), never the new name beside a slot made for the old one.
                foreach (var slot in partners.Slots)
                {
                    await ActiveSyncPartnerships.RemoveSlotAsync(rapi, slot.Slot, cancellationToken).ConfigureAwait(false);
                }

                if (partners.CurrentSlot != 0)
                {
                    await ActiveSyncPartnerships.SetCurrentSlotAsync(rapi, 0, cancellationToken).ConfigureAwait(false);
                }

                await ActiveSyncPartnerships.WriteDeviceNameAsync(rapi, job.NewName.Value, cancellationToken).ConfigureAwait(false);
            }

            var ended = partners.Slots.Select(s => new EndedPartnership(s.Slot, new PartnershipNumber(s.PartnerId).ToString(), DeviceText.Printable(s.HostName), Standing == "partnered" && s.PartnerId == _number)).ToList();
            var result = new DeviceRenameResult(oldName.Value, job.NewName.Value, Remote, Standing ?? "?", ended, ended.Any(e => e.ThisHost));
            ActiveSyncHostLog.Renamed(logger, Remote, oldName.Value, job.NewName.Value, ended.Count);
            job.Done.TrySetResult(result);
            return $"renamed to {job.NewName} by the operator ({result.Describe()}); the device is triggered again to partner under its new name";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var outcome = host.IsStopping ? "rename cut: the host is stopping" : "rename cut: the activesync link went down (cable out)";
            ActiveSyncHostLog.RenameFailed(logger, Remote, oldName.Value, outcome);
            job.Done.TrySetException(new ActiveSyncDeviceUnavailableException($"{outcome}; {(_renamed ? "its partnerships may already have ended: the device is then refused by P5 when it connects again, and the rename can be asked again" : "nothing was written to it")}"));
            throw;
        }
        catch (CradleException e)
        {
            var outcome = $"rename failed: {WireText.Clean(e.Message)}";
            ActiveSyncHostLog.RenameFailed(logger, Remote, oldName.Value, outcome);
            job.Done.TrySetException(e);
            return _renamed ? outcome : null;
        }
    }
}

/// <summary>A rename the operator asked for (with consent), waiting for its device's session.</summary>
internal sealed class RenameJob(DeviceName newName, CancellationToken cancellation) : ActiveSyncJob
{
    public override string What => "rename";

    public DeviceName NewName { get; } = newName;

    public CancellationToken Cancellation { get; } = cancellation;

    public TaskCompletionSource<DeviceRenameResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception reason) => Done.TrySetException(reason);
}

/// <summary>A partnership slot a rename removed from the device (P8); <c>ThisHost</c> when it was this host's.</summary>
public sealed record EndedPartnership(int Slot, string Number, string Host, bool ThisHost);

/// <summary>
/// What a rename did: the device at <c>Connection</c> was <c>OldName</c> (<c>Standing</c> here:
/// partnered, not-partnered, guest) and is now <c>NewName</c>; the partnerships it held ended.
/// <c>HostRecordKept</c>: one of them was this host's, whose record and backups stay under the
/// old name (P4) and are never reused for the device.
/// </summary>
public sealed record DeviceRenameResult(string OldName, string NewName, string Connection, string Standing, List<EndedPartnership> Ended, bool HostRecordKept)
{
    /// <summary>One line for the console and the logs.</summary>
    public string Describe()
    {
        var ended = Ended.Count == 0
            ? "it held no partnership"
            : $"its partnerships ended (P8): {string.Join(", ", Ended.Select(e => $"P{e.Slot} {e.Host} number {e.Number}"))}";
        var kept = HostRecordKept
            ? $"; this host keeps {OldName}'s record and backups (P4), never reused for the device: cradle host forget {OldName} releases the name"
            : "";
        return $"{OldName} renamed to {NewName}: {ended}{kept}";
    }
}

/// <summary>The host refuses an operator's ActiveSync request by a partnership rule (a new name it already holds: P5).</summary>
public sealed class ActiveSyncRefusedException(string rule, string message) : CradleException(message, isTransient: false)
{
    /// <summary>The rule id, e.g. P5.</summary>
    public string Rule { get; } = rule;
}
