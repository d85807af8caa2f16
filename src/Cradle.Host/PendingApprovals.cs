using Cradle.Store;
namespace Cradle.Host;

/// <summary>What the operator decided about a pending partnership.</summary>
public enum PendingState
{
    Waiting = 0,
    Approved = 1,
    Denied = 2,
}

/// <summary>A partnership waiting for the operator (network links): the device shows the same code.</summary>
public sealed record PendingPartnership(string Code, string Device, uint Number, string Address, DateTimeOffset Created, PendingState State);

/// <summary>
/// Pending approvals live in the database so that <c>cradle host approve</c>, another process,
/// can decide while the host service waits on the session.
/// </summary>
public static class PendingApprovals
{
    public static void Add(this PartnershipRegistry registry, PendingPartnership pending)
    {
        using var command = registry.Command("INSERT INTO pending(code, device, number, address, created_ms, state) VALUES(@code, @device, @number, @address, @created, 0) ON CONFLICT(code) DO UPDATE SET device = excluded.device, number = excluded.number, address = excluded.address, created_ms = excluded.created_ms, state = 0");
        command.AddParameter("@code", pending.Code);
        command.AddParameter("@device", pending.Device);
        command.AddParameter("@number", (long)pending.Number);
        command.AddParameter("@address", pending.Address);
        command.AddParameter("@created", pending.Created.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public static List<PendingPartnership> ListPending(this PartnershipRegistry registry)
    {
        using var command = registry.Command("SELECT code, device, number, address, created_ms, state FROM pending WHERE state = 0 ORDER BY created_ms");
        var list = new List<PendingPartnership>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new PendingPartnership(reader.GetString(0), reader.GetString(1), (uint)reader.GetInt64(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), (PendingState)reader.GetInt64(5)));
        }

        return list;
    }

    public static PendingState? GetState(this PartnershipRegistry registry, string code)
    {
        using var command = registry.Command("SELECT state FROM pending WHERE code = @code");
        command.AddParameter("@code", code);
        return command.ExecuteScalar() is long state ? (PendingState)state : null;
    }

    /// <summary>Approves or denies a waiting request; false when no request waits under that code.</summary>
    public static bool Decide(this PartnershipRegistry registry, string code, PendingState decision)
    {
        using var command = registry.Command("UPDATE pending SET state = @state WHERE code = @code AND state = 0");
        command.AddParameter("@code", code);
        command.AddParameter("@state", (long)decision);
        return command.ExecuteNonQuery() == 1;
    }

    public static void Remove(this PartnershipRegistry registry, string code)
    {
        using var command = registry.Command("DELETE FROM pending WHERE code = @code");
        command.AddParameter("@code", code);
        command.ExecuteNonQuery();
    }
}
