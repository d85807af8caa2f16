using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A host of this build serves a device that still speaks protocol version 1 (no
/// PartnershipStored): it answers in version 1, pairs and backs up in one session as that
/// device expects, and keeps the partnership under P5 afterwards.
/// </summary>
public sealed class OlderDeviceTests : IAsyncLifetime, IDisposable
{
    private readonly TempFolder _folder = new();
    private RunningHost _host = null!;

    public async Task InitializeAsync() => _host = await RunningHost.StartAsync(_folder.Path, "mixed");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_version_1_device_pairs_and_backs_up_in_one_session_and_its_partnership_is_kept_under_P5()
    {
        await using (var old = await HostileClient.ConnectAsync(_host.Address))
        {
            var hello = await old.HelloAsync("OLD-1", version: 1);
            Assert.Equal(1u, hello.ProtocolVersion);
            var nonce = new byte[32];
            Random.Shared.NextBytes(nonce);
            await old.SendAsync(new Envelope { PartnerRequest = new PartnerRequest { Number = 0x0123_4567, Commitment = ByteString.CopyFrom(SessionProof.Commit(nonce)) } });
            Assert.Equal(Envelope.BodyOneofCase.PartnerChallenge, (await old.ReceiveAsync()).BodyCase);
            await old.SendAsync(new Envelope { PartnerReveal = new PartnerReveal { DeviceNonce = ByteString.CopyFrom(nonce) } });
            Assert.Equal(Envelope.BodyOneofCase.SessionAccepted, (await old.ReceiveAsync()).BodyCase);

            // No PartnershipStored: version 1 goes straight on to its backup.
            var committed = await old.BackUpOneFileAsync("old.log", "from a version 1 device"u8.ToArray());
            Assert.True(committed.BodyCase == Envelope.BodyOneofCase.BackupCommitted, committed.ToString());
        }

        // The record is confirmed: another request for the name is refused, not a replacement.
        await using var other = await HostileClient.ConnectAsync(_host.Address);
        await other.HelloAsync("OLD-1", version: 1);
        await other.SendAsync(new Envelope { PartnerRequest = new PartnerRequest { Number = 0x0765_4321, Commitment = ByteString.CopyFrom(SessionProof.Commit(new byte[32])) } });
        var refused = await other.ReceiveAsync();
        Assert.True(refused.BodyCase == Envelope.BodyOneofCase.Refusal, refused.ToString());
        Assert.Equal("P5", refused.Refusal.Rule);
    }

    [Fact]
    public async Task A_device_older_than_version_1_is_refused_by_name()
    {
        await using var ancient = await HostileClient.ConnectAsync(_host.Address);
        await ancient.SendAsync(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = 0, DeviceName = "ANCIENT-1" } });
        var reply = await ancient.ReceiveAsync();
        Assert.Equal("version", reply.Refusal.Rule);
        Assert.Contains("speaks versions 1 to 3", reply.Refusal.Message, StringComparison.Ordinal);
    }
}
