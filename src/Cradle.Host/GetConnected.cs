using Cradle.Links.Serial;

namespace Cradle.Host;

/// <summary>What Get Connected found on one port, as <c>cradle host get-connected --json</c> and <c>POST /api/v1/get-connected</c> show it.</summary>
public sealed record PortRow(string Port, int? Baud, string Result, string? Device, long BytesHeard, string? Detail, int[] RatesTried);

/// <summary>
/// The Get Connected wizard: listens on serial ports at the common rates for a device that is
/// offering a session, and says per port what it found: the device and its rate, silence, or
/// noise. Ports are scanned side by side; none can hang the scan.
/// </summary>
public static class GetConnected
{
    /// <summary>Scans these ports (<see cref="SerialLink.PortsToScan"/> lists the system's) side by side; one row per port.</summary>
    public static async Task<List<PortRow>> ScanAsync(IEnumerable<string> ports, IReadOnlyList<int>? rates, TimeSpan listen, CancellationToken cancellationToken)
    {
        var rows = await Task.WhenAll(ports.Select(p => ScanPortAsync(p, rates ?? SerialLink.CommonBaudRates, listen, cancellationToken))).ConfigureAwait(false);
        return [.. rows];
    }

    private static async Task<PortRow> ScanPortAsync(string port, IReadOnlyList<int> rates, TimeSpan listen, CancellationToken cancellationToken)
    {
        var tried = new List<int>();
        SerialProbe? noisiest = null;
        foreach (var rate in rates)
        {
            tried.Add(rate);
            var probe = await SerialLink.ProbeAsync(port, rate, listen, cancellationToken).ConfigureAwait(false);
            switch (probe.Result)
            {
                case SerialProbeResult.DeviceOffering:
                    return new PortRow(port, rate, "device", probe.DeviceName, probe.BytesHeard, null, [.. tried]);
                case SerialProbeResult.Unavailable:
                    return new PortRow(port, null, "unavailable", null, 0, probe.Detail, [.. tried]);
                case SerialProbeResult.Noise when noisiest is null || probe.BytesHeard > noisiest.BytesHeard:
                    noisiest = probe;
                    break;
            }
        }

        return noisiest is null
            ? new PortRow(port, null, "silent", null, 0, null, [.. tried])
            : new PortRow(port, null, "noise", null, noisiest.BytesHeard, $"{noisiest.BytesHeard} bytes at {noisiest.Baud} baud, no Cradle frame among them", [.. tried]);
    }
}
