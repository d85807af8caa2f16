using System.Text.Json;
using Cradle.Protocol;
using Cradle.Protocol.Messages;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A partnership the host recorded but the device never stored (the link dropped, or the host
/// was killed, between the host's answer and the device's save): the device asks again and is
/// partnered again without the operator, while a partnership the device proved it holds keeps
/// P5/P7. The half-made partnership is played by the hostile client, which stops exactly there.
/// </summary>
public sealed class PartnershipConfirmationTests : IAsyncLifetime, IDisposable
{
    private const uint LostNumber = 0x1111_2222;

    private readonly TempFolder _folder = new();
    private RunningHost _host = null!;

    public async Task InitializeAsync() => _host = await RunningHost.StartAsync(_folder.Path, "pairing");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_partnership_whose_secret_never_reached_the_device_is_made_anew_when_it_connects_again()
    {
        byte[] lostSecret;
        await using (var cut = await HostileClient.ConnectAsync(_host.Address))
        {
            lostSecret = await cut.PartnerAsync("LOST-1", LostNumber, confirmStored: false);
        }

        // The operator sees the half-made record for what it is.
        Assert.False(Assert.Single(await DevicesAsync()).GetProperty("confirmed").GetBoolean());
        var table = await _host.RunAsync("host", "devices");
        Assert.Contains("LOST-1: unconfirmed", table.Stdout, StringComparison.Ordinal);

        var device = new TestDevice(_folder.Path, "lost");
        Assert.Equal(0, (await device.InitAsync("LOST-1")).ExitCode);
        var backup = await device.BackUpOnceAsync(_host);

        Assert.True(backup.ExitCode == 0, backup.ToString());
        var slot = Assert.Single(JsonDocument.Parse((await device.RunAsync("partnerships", "--json")).Stdout).RootElement.EnumerateArray());
        var number = slot.GetProperty("number").GetUInt32();
        Assert.NotEqual(LostNumber, number);
        var record = Assert.Single(await DevicesAsync());
        Assert.Equal(("LOST-1", number, 1, true), (record.GetProperty("name").GetString(), record.GetProperty("number").GetUInt32(), record.GetProperty("snapshots").GetInt32(), record.GetProperty("confirmed").GetBoolean()));

        // The half-made partnership is gone: its number and secret prove nothing any more.
        await using var stale = await HostileClient.ConnectAsync(_host.Address);
        var reply = await stale.AuthenticateAsync("LOST-1", LostNumber, lostSecret);
        Assert.Equal(Envelope.BodyOneofCase.Refusal, reply.BodyCase);
        Assert.Equal("P5", reply.Refusal.Rule);
    }

    [Fact]
    public async Task A_partnership_the_device_said_it_stored_is_kept_and_a_device_without_it_is_refused_P5_P7()
    {
        await using (var partner = await HostileClient.ConnectAsync(_host.Address))
        {
            await partner.PartnerAsync("KEPT-1", LostNumber);
            await EndAsync(partner);
        }

        var device = new TestDevice(_folder.Path, "kept");
        Assert.Equal(0, (await device.InitAsync("KEPT-1")).ExitCode);
        var refused = await device.BackUpOnceAsync(_host);

        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains("refused: ", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("number 11112222", refused.Stderr, StringComparison.Ordinal);
        var record = Assert.Single(await DevicesAsync());
        Assert.Equal(LostNumber, record.GetProperty("number").GetUInt32());
    }

    [Fact]
    public async Task An_unconfirmed_partnership_authenticated_once_is_confirmed_and_no_longer_replaced()
    {
        byte[] secret;
        await using (var cut = await HostileClient.ConnectAsync(_host.Address))
        {
            secret = await cut.PartnerAsync("SAVED-1", LostNumber, confirmStored: false);
        }

        // The device had stored the secret; only its word that it had was lost. Its next
        // session proves the secret, and that confirms the partnership.
        await using (var proven = await HostileClient.ConnectAsync(_host.Address))
        {
            var accepted = await proven.AuthenticateAsync("SAVED-1", LostNumber, secret);
            Assert.True(accepted.BodyCase == Envelope.BodyOneofCase.SessionAccepted, accepted.ToString());
            await EndAsync(proven);
        }

        var device = new TestDevice(_folder.Path, "saved");
        Assert.Equal(0, (await device.InitAsync("SAVED-1")).ExitCode);
        var refused = await device.BackUpOnceAsync(_host);

        Assert.True(refused.ExitCode == 3, refused.ToString());
        Assert.Contains("refused: ", refused.Stderr, StringComparison.Ordinal);
        await using var again = await HostileClient.ConnectAsync(_host.Address);
        Assert.Equal(Envelope.BodyOneofCase.SessionAccepted, (await again.AuthenticateAsync("SAVED-1", LostNumber, secret)).BodyCase);
    }

    /// <summary>Says goodbye and waits until the host has closed the session, so everything sent before is processed.</summary>
    private static async Task EndAsync(HostileClient client)
    {
        await client.SendAsync(new Envelope { Goodbye = new Goodbye { Reason = "done" } });
        await Assert.ThrowsAsync<LinkClosedException>(async () => await client.ReceiveAsync());
    }

    private async Task<List<JsonElement>> DevicesAsync()
    {
        var result = await _host.RunAsync("host", "devices", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
    }

    public void Dispose() => _folder.Dispose();
}
