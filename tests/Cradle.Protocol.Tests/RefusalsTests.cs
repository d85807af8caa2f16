using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.Protocol.Tests;

/// <summary>
/// Issue 21: refusal classes cross the wire as a value with a transient flag, beside the rule
/// text older peers read; both sides map them through <see cref="Refusals"/> to one exception.
/// </summary>
public sealed class RefusalsTests
{
    /// <summary>Every value of the enum but Unspecified (the wire's "no class").</summary>
    public static TheoryData<RefusalClass> EveryClass() =>
        new(Enum.GetValues<RefusalClass>().Where(c => c != RefusalClass.Unspecified));

    [Fact]
    public void Every_class_of_the_enum_is_in_the_table_with_its_own_rule()
    {
        var all = Enum.GetValues<RefusalClass>().Where(c => c != RefusalClass.Unspecified).ToList();
        Assert.Equal(all.Order(), Refusals.Known.Order());
        Assert.Equal(all.Count, all.Select(Refusals.Rule).Distinct(StringComparer.Ordinal).Count());
        Assert.False(Refusals.IsKnown(RefusalClass.Unspecified));
    }

    [Fact]
    public void Only_a_busy_host_and_a_full_disk_are_transient() =>
        Assert.Equal([RefusalClass.Busy, RefusalClass.DiskFull], Refusals.Known.Where(Refusals.IsTransient).Order());

    [Theory]
    [MemberData(nameof(EveryClass))]
    public void A_refusal_crosses_the_wire_as_its_class_its_rule_and_its_flag_and_comes_back_the_same(RefusalClass refusalClass)
    {
        var sent = new SessionRefusedException(refusalClass, "why \u001b[2J");
        var wire = Refusal.Parser.ParseFrom(Refusals.ToMessage(sent).ToByteArray());

        Assert.Equal(refusalClass, wire.RefusalClass);
        Assert.Equal(Refusals.Rule(refusalClass), wire.Rule);
        Assert.Equal(Refusals.IsTransient(refusalClass), wire.Transient);

        var received = Refusals.ToException(wire);
        Assert.Equal(refusalClass, received.Class);
        Assert.Equal(sent.Rule, received.Rule);
        Assert.Equal(sent.IsTransient, received.IsTransient);
        Assert.Equal(@"why \x1b[2J", received.Message); // the peer's words, sanitised
    }

    [Theory]
    [MemberData(nameof(EveryClass))]
    public void A_host_of_an_earlier_release_sends_only_the_rule_text_and_is_understood_as_before(RefusalClass refusalClass)
    {
        // What the first releases sent: fields 1 and 2 only.
        var received = Refusals.ToException(new Refusal { Rule = Refusals.Rule(refusalClass), Message = "m" });
        Assert.Equal(refusalClass, received.Class);
        Assert.Equal(Refusals.IsTransient(refusalClass), received.IsTransient);
    }

    [Fact]
    public void A_peer_of_an_earlier_release_reads_the_same_first_two_fields_it_always_read()
    {
        // Fields 1 and 2 are encoded first and as before; 3 and 4 are varints such a peer skips
        // (proto3 keeps unknown fields): it reads "busy" and retries, as it always did.
        var bytes = Refusals.ToMessage(new SessionRefusedException(RefusalClass.Busy, "m")).ToByteArray();
        byte[] expected = [0x0A, 4, (byte)'b', (byte)'u', (byte)'s', (byte)'y', 0x12, 1, (byte)'m', 0x18, 10, 0x20, 1];
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_class_from_a_newer_peer_keeps_its_rule_text_and_is_transient_only_if_the_peer_says_so(bool transient)
    {
        var received = Refusals.ToException(new Refusal { RefusalClass = (RefusalClass)99, Rule = "quota\u001b[2J", Message = "over quota", Transient = transient });
        Assert.Equal((RefusalClass)99, received.Class);
        Assert.False(Refusals.IsKnown(received.Class));
        Assert.Equal(@"quota\x1b[2J", received.Rule);
        Assert.Equal(transient, received.IsTransient);
        Assert.Equal("over quota", received.Message);

        // No text either: named by its number.
        Assert.Equal("class 99", Refusals.ToException(new Refusal { RefusalClass = (RefusalClass)99 }).Rule);
    }

    [Fact]
    public void A_known_class_is_transient_by_this_builds_table_whatever_the_flag_says()
    {
        Assert.False(Refusals.ToException(new Refusal { RefusalClass = RefusalClass.P5, Rule = "P5", Transient = true }).IsTransient);
        Assert.True(Refusals.ToException(new Refusal { RefusalClass = RefusalClass.Busy, Rule = "busy", Transient = false }).IsTransient);
    }

    [Fact]
    public void Rule_text_no_class_has_from_an_older_peer_is_a_lasting_refusal_named_by_its_text()
    {
        var received = Refusals.ToException(new Refusal { Rule = "P4\u001b[2J", Message = "m", Transient = true });
        Assert.Equal(RefusalClass.Unspecified, received.Class);
        Assert.Equal(@"P4\x1b[2J", received.Rule);
        Assert.False(received.IsTransient);
    }
}
