using Cradle.Links.Serial;
using Cradle.Protocol;

namespace Cradle.Host;

/// <summary>The host's serial ports: wait for a device's offer (scanning rates when none is set), then serve its session.</summary>
public sealed partial class HostService
{
    /// <summary>How long the host listens at one rate for an offer before trying the next (a device offers every 0.4 s).</summary>
    public static readonly TimeSpan ScanDwell = TimeSpan.FromSeconds(1.3);

    /// <summary>The serial ports this host watches: those it was started with and those Get Connected added since.</summary>
    public IReadOnlyList<SerialPortSetting> SerialPorts
    {
        get
        {
            lock (_serialPorts)
            {
                return [.. _serialPorts];
            }
        }
    }

    /// <summary>
    /// Starts watching one more serial port, as the Get Connected wizard does once it found a
    /// device there: the device, still offering its session, connects by itself. The port is
    /// watched until the host stops (<c>--serial</c> keeps it across restarts). False when the
    /// port is watched already or the host is stopping.
    /// </summary>
    public bool WatchSerialPort(SerialPortSetting port)
    {
        ArgumentNullException.ThrowIfNull(port);
        lock (_serialPorts)
        {
            if (IsStopping || BoundAddress is null || _serialPorts.Any(p => string.Equals(p.Path, port.Path, StringComparison.Ordinal)))
            {
                return false;
            }

            _serialPorts.Add(port);
            _watchers.Add(WatchSerialPortAsync(port, _stopping.Token));
            return true;
        }
    }

    private async Task WatchSerialPortAsync(SerialPortSetting port, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var rates = port.Baud is { } fixedRate ? [fixedRate] : SerialLink.CommonBaudRates;
        HostLog.WatchingSerial(_logger, port.Path, port.Baud is null ? "scanning " + string.Join("/", rates) + " baud" : $"{port.Baud} baud");
        var next = 0;
        string? lastProblem = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var baud = rates[next];
            FramedLine line;
            try
            {
                line = SerialLink.Open(port.Path, baud);
                lastProblem = null;
            }
            catch (LinkClosedException e)
            {
                // A USB-serial adapter that is not plugged in yet: say so once, keep trying.
                if (e.Message != lastProblem)
                {
                    HostLog.SerialUnavailable(_logger, port.Path, e.Message);
                    lastProblem = e.Message;
                }

                await DelayAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                continue;
            }

            await using (line.ConfigureAwait(false))
            {
                var found = await ServeLineAsync(port, line, baud, scanning: rates.Count > 1, cancellationToken).ConfigureAwait(false);
                if (!found)
                {
                    next = (next + 1) % rates.Count;
                }
            }
        }
    }

    /// <summary>Serves sessions on an open line until it fails, or (when scanning) no offer comes at this rate. True if a device was found.</summary>
    private async Task<bool> ServeLineAsync(SerialPortSetting port, FramedLine line, int baud, bool scanning, CancellationToken cancellationToken)
    {
        var found = false;
        while (!cancellationToken.IsCancellationRequested && line.Failure is null)
        {
            using var dwell = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (scanning && !found)
            {
                dwell.CancelAfter(ScanDwell);
            }

            ReliableLink link;
            string offeredBy;
            try
            {
                (link, offeredBy) = await SerialLink.AcceptAsync(line, _options.SerialLink, dwell.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return found; // nothing at this rate: try the next
            }
            catch (OperationCanceledException)
            {
                return found;
            }
            catch (LinkClosedException e)
            {
                HostLog.SerialUnavailable(_logger, port.Path, e.Message);
                return found;
            }

            found = true;
            HostLog.SerialOffer(_logger, port.Path, Protocol.WireText.Clean(offeredBy), baud);
            var session = new HostSession(this, _options, _logger, $"serial:{port.Path}@{baud}", "serial");
            var task = RunSessionAsync(session, link, cancellationToken);
            Track(task);
            await task.ConfigureAwait(false);
        }

        if (line.Failure is { } failure)
        {
            HostLog.SerialUnavailable(_logger, port.Path, failure.Message);
            await DelayAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }

        return found;
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
