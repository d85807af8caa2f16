namespace Cradle.Device.Tests;

internal static class Slots
{
    public static PartnershipSlot Make(string host, uint number, long createdUnixMs) => new()
    {
        HostId = host + "-id",
        HostName = host,
        Address = "10.0.0.1:5679",
        Number = number,
        Secret = Convert.ToBase64String(new byte[32]),
        CertificateSha256 = new string('0', 64),
        CreatedUnixMs = createdUnixMs,
    };
}
