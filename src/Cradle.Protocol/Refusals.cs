using System.Collections.Frozen;
using Cradle.Protocol.Messages;

namespace Cradle.Protocol;

/// <summary>
/// The one table of refusal classes (docs/protocol.md §7): each class's rule id, the text the
/// first releases put on the wire and still read, and whether it is transient. Both sides map
/// through it: the host from <see cref="SessionRefusedException"/> to <see cref="Refusal"/>, the
/// device back. A refusal's text decides nothing except from a peer that sends no class (an
/// older host), and then only here, in <see cref="ClassOf"/>.
/// </summary>
public static class Refusals
{
    private sealed record Entry(string Rule, bool Transient);

    private static readonly FrozenDictionary<RefusalClass, Entry> Table = new Dictionary<RefusalClass, Entry>
    {
        [RefusalClass.Protocol] = new("protocol", false),
        [RefusalClass.Version] = new("version", false),
        [RefusalClass.Auth] = new("auth", false),
        [RefusalClass.P1] = new("P1", false),
        [RefusalClass.P2] = new("P2", false),
        [RefusalClass.P3] = new("P3", false),
        [RefusalClass.P4] = new("P4", false),
        [RefusalClass.P5] = new("P5", false),
        [RefusalClass.Approval] = new("approval", false),
        // Transient: nothing is wrong with the device or its partnership; the host cannot serve now.
        [RefusalClass.Busy] = new("busy", true),
        [RefusalClass.DiskFull] = new("disk-full", true),
        [RefusalClass.Consent] = new("consent", false),
        [RefusalClass.Restore] = new("restore", false),
        [RefusalClass.Reclaim] = new("reclaim", false),
        [RefusalClass.Pin] = new("pin", false),
        [RefusalClass.Locked] = new("locked", false),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, RefusalClass> ByRule =
        Table.ToFrozenDictionary(e => e.Value.Rule, e => e.Key, StringComparer.Ordinal);

    /// <summary>Every class this build knows (all but <see cref="RefusalClass.Unspecified"/>).</summary>
    public static IReadOnlyCollection<RefusalClass> Known => Table.Keys;

    /// <summary>True for a class this build knows.</summary>
    public static bool IsKnown(RefusalClass refusal) => Table.ContainsKey(refusal);

    /// <summary>The class's rule id ("P5", "busy"); a class this build does not know is named by its number.</summary>
    public static string Rule(RefusalClass refusal) =>
        Table.TryGetValue(refusal, out var entry) ? entry.Rule : $"class {(int)refusal}";

    /// <summary>True when trying again later with nothing changed may succeed; false for a class this build does not know.</summary>
    public static bool IsTransient(RefusalClass refusal) => Table.TryGetValue(refusal, out var entry) && entry.Transient;

    /// <summary>The refusal on the wire: the class, its rule id as text for older peers, the transient flag, the message.</summary>
    public static Refusal ToMessage(SessionRefusedException refusal) => new()
    {
        RefusalClass = refusal.Class,
        Rule = refusal.Rule,
        Transient = refusal.IsTransient,
        Message = refusal.Message,
    };

    /// <summary>
    /// The class of a received refusal. A peer of the first releases sends no class (0): its rule
    /// text is the class's id, read here and only here; text no class has is
    /// <see cref="RefusalClass.Unspecified"/>. A class this build does not know is returned as sent.
    /// </summary>
    public static RefusalClass ClassOf(Refusal refusal) =>
        refusal.RefusalClass != RefusalClass.Unspecified ? refusal.RefusalClass
        : ByRule.TryGetValue(refusal.Rule, out var legacy) ? legacy
        : RefusalClass.Unspecified;

    /// <summary>
    /// A received refusal as the exception both sides use, its words sanitised (they are the
    /// peer's). Transient: a known class's own flag (this build's table, whatever the peer said);
    /// a class this build does not know, the peer's <see cref="Refusal.Transient"/> (it knows
    /// what its class means); an older peer's text no class has, not transient (as those peers meant).
    /// </summary>
    public static SessionRefusedException ToException(Refusal refusal)
    {
        var refusalClass = ClassOf(refusal);
        var message = WireText.Clean(refusal.Message);
        if (IsKnown(refusalClass))
        {
            return new SessionRefusedException(refusalClass, message);
        }

        var rule = refusal.Rule.Length > 0 ? WireText.Clean(refusal.Rule) : Rule(refusalClass);
        var transient = refusalClass != RefusalClass.Unspecified && refusal.Transient;
        return new SessionRefusedException(refusalClass, rule, message, transient);
    }
}
