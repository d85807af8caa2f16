using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Cradle.Content;
using Cradle.Device;
using Cradle.Store;
using Cradle.Tests;

namespace Cradle.Fuzz.Tests;

/// <summary>What the decoder properties found, one test each (the inputs are also in tests/corpus as regress-*).</summary>
public sealed class RegressionTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A 20-byte tree claiming 10 million entries made the parser reserve room for 65,536 (512 KiB).</summary>
    [Fact]
    public void A_tree_count_sizes_nothing_the_bytes_cannot_hold()
    {
        var input = Convert.FromHexString("4352444C54524545010081969800FFFFFFFFFF7F");

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<StoreFormatException>(() => SnapshotTree.Parse(input));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.InRange(allocated, 0, 16 * 1024);
    }

    /// <summary>afl-fuzz: a pack tail naming a footer offset near 2^64 overflowed the tail check (OverflowException).</summary>
    [Fact]
    public void A_pack_tail_with_a_huge_footer_offset_is_damage()
    {
        var pack = PackFiles.Small();
        BinaryPrimitives.WriteUInt64LittleEndian(pack.AsSpan(pack.Length - PackFormat.TailLength + 4), ulong.MaxValue - 8);

        var e = Assert.Throws<StoreFormatException>(() => new PackRecordsTarget().Run(pack));

        Assert.Contains("footer offset", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A partnerships file whose secret is not base64 loaded, then failed the session with a FormatException.</summary>
    [Fact]
    public void A_partnership_secret_that_is_not_a_key_is_damage()
    {
        var state = new DeviceState(_temp["device"]);
        var json = JsonNode.Parse(StateFiles.Partnerships(state.Folder))!;
        json["slots"]![0]!["secret"] = "not*base64";
        File.WriteAllText(state.PartnershipsPath, json.ToJsonString());

        var e = Assert.Throws<DeviceStateException>(state.LoadPartnerships);

        Assert.Contains("secret is damaged", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recovery_key_that_is_not_a_key_is_damage()
    {
        var state = new DeviceState(_temp["device"]);
        var json = JsonNode.Parse(StateFiles.Identity(state.Folder))!;
        json["recoveryKey"] = Convert.ToBase64String(new byte[31]);
        File.WriteAllText(state.IdentityPath, json.ToJsonString());

        var e = Assert.Throws<DeviceStateException>(state.LoadIdentity);

        Assert.Contains("recovery key is damaged", e.Message, StringComparison.Ordinal);
    }
}
