using System.Globalization;
using Cradle.Store;

namespace Cradle.Host;

/// <summary>What became of a pending partnership: the operator's decision, then the host's outcome.</summary>
public enum PendingState
{
    /// <summary>Waiting for the operator; the device is connected and shows the code.</summary>
    Waiting = 0,

    /// <summary>The operator approved; the host has not acted on it yet.</summary>
    Approved = 1,

    /// <summary>The operator denied.</summary>
    Denied = 2,

    /// <summary>Approved, and the host made the partnership.</summary>
    Created = 3,

    /// <summary>Approved, but the host could not make it (the device left first, another device took the name).</summary>
    Failed = 4,

    /// <summary>Ended before anyone decided: the device left, the request timed out or was dropped for newer ones.</summary>
    Gone = 5,
}

/// <summary>A partnership waiting for the operator (network links): the device shows the same code.</summary>
public sealed record PendingPartnership(string Code, string Device, uint Number, string Address, DateTimeOffset Created, PendingState State)
{
    /// <summary>The host's words on how it ended (null while it waits).</summary>
    public string? Outcome { get; init; }

    /// <summary>When it ended (null while it waits or waits for the host to act on a decision).</summary>
    public DateTimeOffset? Ended { get; init; }
}

/// <summary>
/// Pending approvals live in the database so that <c>cradle host approve</c>, another process,
/// can decide while the host service waits on the session, and learn what the host then did:
/// a row stays for a while after it ended, with its outcome (<see cref="PendingState"/>).
/// Wrong codes given to approve or deny are counted: past <see cref="MaxWrongCodes"/> within
/// <see cref="WrongCodeWindow"/>, decisions are locked for <see cref="LockOut"/>.
/// </summary>
public static class PendingApprovals
{
    /// <summary>Wrong codes tolerated within <see cref="WrongCodeWindow"/> before decisions lock.</summary>
    public const int MaxWrongCodes = 5;

    /// <summary>The window wrong codes are counted in.</summary>
    public static readonly TimeSpan WrongCodeWindow = TimeSpan.FromMinutes(10);

    /// <summary>How long decisions stay locked after too many wrong codes.</summary>
    public static readonly TimeSpan LockOut = TimeSpan.FromMinutes(15);

    /// <summary>Adds a waiting request; false when a request already waits under the code (the caller asks the device to try again).</summary>
    public static bool Add(this PartnershipRegistry registry, PendingPartnership pending)
    {
        using var command = registry.Command("INSERT INTO pending(code, device, number, address, created_ms, state) VALUES(@code, @device, @number, @address, @created, 0) ON CONFLICT(code) DO NOTHING");
        command.AddParameter("@code", pending.Code);
        command.AddParameter("@device", pending.Device);
        command.AddParameter("@number", (long)pending.Number);
        command.AddParameter("@address", pending.Address);
        command.AddParameter("@created", pending.Created.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The requests waiting for a decision, oldest first.</summary>
    public static List<PendingPartnership> ListPending(this PartnershipRegistry registry) =>
        Read(registry, "WHERE state = 0 ORDER BY created_ms", null);

    /// <summary>The request under <paramref name="code"/>, waiting or ended not long ago; null when there is none.</summary>
    public static PendingPartnership? GetPending(this PartnershipRegistry registry, string code) =>
        Read(registry, "WHERE code = @code", code).FirstOrDefault();

    public static PendingState? GetState(this PartnershipRegistry registry, string code) => registry.GetPending(code)?.State;

    /// <summary>The codes among <paramref name="codes"/> whose state is not <see cref="PendingState.Waiting"/> (or whose row is gone: null), in one statement.</summary>
    public static Dictionary<string, PendingState?> Decided(this PartnershipRegistry registry, IReadOnlyCollection<string> codes)
    {
        var states = new Dictionary<string, PendingState?>(StringComparer.Ordinal);
        foreach (var code in codes)
        {
            states[code] = null;
        }

        if (codes.Count == 0)
        {
            return states;
        }

        using var command = registry.Command("SELECT code, state FROM pending");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var code = reader.GetString(0);
            if (states.ContainsKey(code))
            {
                states[code] = (PendingState)reader.GetInt64(1);
            }
        }

        foreach (var waiting in states.Where(s => s.Value == PendingState.Waiting).Select(s => s.Key).ToList())
        {
            states.Remove(waiting);
        }

        return states;
    }

    /// <summary>Approves or denies a waiting request; false when no request waits under that code.</summary>
    public static bool Decide(this PartnershipRegistry registry, string code, PendingState decision)
    {
        if (decision is not (PendingState.Approved or PendingState.Denied))
        {
            throw new ArgumentOutOfRangeException(nameof(decision), decision, "the operator approves or denies");
        }

        using var command = registry.Command("UPDATE pending SET state = @state WHERE code = @code AND state = 0");
        command.AddParameter("@code", code);
        command.AddParameter("@state", (long)decision);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The host's last word on a request: how it ended (kept a while for <c>host approve</c> to report).</summary>
    public static void End(this PartnershipRegistry registry, string code, PendingState state, string outcome, DateTimeOffset now)
    {
        using var command = registry.Command("UPDATE pending SET state = @state, outcome = @outcome, ended_ms = @now WHERE code = @code");
        command.AddParameter("@code", code);
        command.AddParameter("@state", (long)state);
        command.AddParameter("@outcome", outcome);
        command.AddParameter("@now", now.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public static void Remove(this PartnershipRegistry registry, string code)
    {
        using var command = registry.Command("DELETE FROM pending WHERE code = @code");
        command.AddParameter("@code", code);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Deletes rows that ended before <paramref name="endedBefore"/>, and waiting rows made before
    /// <paramref name="createdBefore"/> (a host that died while they waited left them).
    /// </summary>
    public static int Expire(this PartnershipRegistry registry, DateTimeOffset endedBefore, DateTimeOffset createdBefore)
    {
        using var command = registry.Command("DELETE FROM pending WHERE (ended_ms IS NOT NULL AND ended_ms < @ended) OR (state = 0 AND created_ms < @created)");
        command.AddParameter("@ended", endedBefore.ToUnixTimeMilliseconds());
        command.AddParameter("@created", createdBefore.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery();
    }

    /// <summary>
    /// Counts a wrong code given to approve or deny; returns how many were counted in the window
    /// and, once past <see cref="MaxWrongCodes"/>, until when decisions are locked.
    /// </summary>
    public static (int Count, DateTimeOffset? LockedUntil) RecordWrongCode(this PartnershipRegistry registry, DateTimeOffset now)
    {
        var (count, since, locked) = registry.WrongCodes();
        if (since is null || now - since > WrongCodeWindow)
        {
            (count, since) = (0, now);
        }

        count++;
        if (count > MaxWrongCodes)
        {
            locked = now + LockOut;
        }

        registry.SetMetaValue("approval_wrong_codes", string.Create(CultureInfo.InvariantCulture,
            $"{count};{since!.Value.ToUnixTimeMilliseconds()};{locked?.ToUnixTimeMilliseconds() ?? 0}"));
        return (count, locked);
    }

    /// <summary>Until when decisions are locked after too many wrong codes; null when they are not.</summary>
    public static DateTimeOffset? DecisionsLockedUntil(this PartnershipRegistry registry, DateTimeOffset now) =>
        registry.WrongCodes().LockedUntil is { } until && until > now ? until : null;

    /// <summary>The wrong-code counter: how many, since when, locked until when.</summary>
    public static (int Count, DateTimeOffset? Since, DateTimeOffset? LockedUntil) WrongCodes(this PartnershipRegistry registry)
    {
        var value = registry.MetaValue("approval_wrong_codes");
        var parts = value?.Split(';');
        if (parts is not { Length: 3 }
            || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var count)
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var since)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var locked))
        {
            return (0, null, null);
        }

        return (count, DateTimeOffset.FromUnixTimeMilliseconds(since), locked == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(locked));
    }

    private static List<PendingPartnership> Read(PartnershipRegistry registry, string where, string? code)
    {
        using var command = registry.Command("SELECT code, device, number, address, created_ms, state, outcome, ended_ms FROM pending " + where);
        if (code is not null)
        {
            command.AddParameter("@code", code);
        }

        var list = new List<PendingPartnership>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new PendingPartnership(reader.GetString(0), reader.GetString(1), (uint)reader.GetInt64(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), (PendingState)reader.GetInt64(5))
            {
                Outcome = reader.IsDBNull(6) ? null : reader.GetString(6),
                Ended = reader.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)),
            });
        }

        return list;
    }
}
