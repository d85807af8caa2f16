using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>
/// What an approve or deny came to: the code, the device, the decision, and the outcome the host
/// reached (<c>created</c>, <c>failed</c>, <c>gone</c>, <c>denied</c>; <c>unknown</c> when no host
/// acted on it within the wait; <c>already-decided</c> when someone else decided first), with the host's words. <see cref="Succeeded"/>: the request ended
/// as asked (approved and created, or denied).
/// </summary>
public sealed record DecisionDone(string Code, string Device, string Decision, string Outcome, string Message)
{
    public bool Succeeded => Outcome is "created" or "denied";
}

/// <summary>Approvals and denials are locked for a while: too many wrong codes were given.</summary>
public sealed class ApprovalsLockedException(string message) : CradleException(message, isTransient: false);

/// <summary>
/// The operator's approve and deny, shared by <c>cradle host approve|deny</c> (another process)
/// and the dashboard: a wrong code is counted and logged (too many lock decisions for a while), a
/// request whose device has gone is reported as such and nothing is created, and a decision waits
/// for the host to say what came of it — so "approved" is printed only when a partnership exists.
/// </summary>
public static class ApprovalDecision
{
    /// <summary>How long approve waits for the running host to act on a decision (it looks every 200 ms).</summary>
    public static readonly TimeSpan OutcomeWait = TimeSpan.FromSeconds(30);

    internal static async Task<DecisionDone> DecideAsync(CatalogDatabase database, string code, PendingState decision, TimeProvider time, TimeSpan wait, CancellationToken cancellationToken)
    {
        var verb = decision == PendingState.Approved ? "approved" : "denied";
        using var registry = PartnershipRegistry.Open(database, time);
        var now = time.GetUtcNow();
        if (registry.DecisionsLockedUntil(now) is { } locked)
        {
            throw new ApprovalsLockedException($"approvals and denials are locked until {locked:yyyy-MM-dd HH:mm:ss} UTC: more than {PendingApprovals.MaxWrongCodes} wrong codes were given within {PendingApprovals.WrongCodeWindow.TotalMinutes:0} minutes (the host's log has them)");
        }

        var pending = registry.GetPending(code);
        if (pending is null)
        {
            var (count, lockedUntil) = registry.RecordWrongCode(now);
            var warning = lockedUntil is { } until
                ? $"; that was wrong code {count}: approvals and denials are locked until {until:yyyy-MM-dd HH:mm:ss} UTC"
                : $" (wrong code {count} of {PendingApprovals.MaxWrongCodes} allowed within {PendingApprovals.WrongCodeWindow.TotalMinutes:0} minutes)";
            throw new KeyNotFoundException($"no partnership waits under code {code} (see cradle host pending){warning}");
        }

        if (pending.State != PendingState.Waiting || !registry.Decide(code, decision))
        {
            // Ended already (the device left, timed out), or decided by someone else first.
            var row = registry.GetPending(code) ?? pending;
            return row.State == PendingState.Gone
                ? Report(row, verb)
                : new DecisionDone(code, row.Device, verb, "already-decided", $"code {code} ({row.Device}) was decided already: {Report(row, verb).Message}");
        }

        var deadline = time.GetTimestamp();
        while (true)
        {
            var now2 = registry.GetPending(code);
            if (now2 is null)
            {
                return new DecisionDone(code, pending.Device, verb, "gone", $"the request of {pending.Device} under code {code} is no longer on the host; nothing was created");
            }

            if (now2.Ended is not null)
            {
                return Report(now2, verb);
            }

            if (time.GetElapsedTime(deadline) > wait)
            {
                return new DecisionDone(code, pending.Device, verb, "unknown", $"{verb} {code} ({pending.Device}), but no host acted on it within {wait.TotalSeconds:0} s: is 'cradle host run' running on this folder? It acts on it when it looks next");
            }

            await Task.Delay(ApprovalBoard.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static DecisionDone Report(PendingPartnership row, string verb)
    {
        var (outcome, message) = row.State switch
        {
            PendingState.Created => ("created", $"{verb} {row.Code}: {row.Outcome}"),
            PendingState.Failed => ("failed", $"{verb} {row.Code} ({row.Device}): {row.Outcome}"),
            PendingState.Denied => ("denied", $"denied {row.Code} ({row.Device}){(row.Outcome is null ? "" : ": " + row.Outcome)}"),
            PendingState.Gone => ("gone", $"the device {row.Device} that waited under code {row.Code} (from {row.Address}) has gone: {row.Outcome}"),
            _ => ("unknown", $"code {row.Code} ({row.Device}) was already decided; the host has not said what came of it yet"),
        };
        return new DecisionDone(row.Code, row.Device, verb, outcome, message);
    }
}
