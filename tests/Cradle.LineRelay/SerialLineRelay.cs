namespace Cradle.LineRelay;

/// <summary>
/// A serial cable between two programs, with faults on demand. It opens two pseudo-terminal
/// pairs; the device program opens <see cref="DevicePort"/> and the host program
/// <see cref="HostPort"/>, each as it would open a serial port (System.IO.Ports.SerialPort sets
/// its own speed and raw mode), and the relay copies bytes between the two masters, one thread
/// each way.
/// </summary>
/// <remarks>
/// Both slaves start raw at <see cref="LineBaud"/> (when termios has a constant for it), as a
/// port keeps its last settings. Bytes sent to a program that has not opened its port yet, or
/// that closed it, wait in that port's buffer for the next open, as on a real port. Disposing
/// the relay hangs both ports up: a program still reading gets end of file.
/// </remarks>
public sealed class SerialLineRelay : IDisposable
{
    private readonly PseudoTerminal _device;
    private readonly PseudoTerminal _host;
    private readonly LineConditions _line;
    private readonly LineDirection _deviceToHost;
    private readonly LineDirection _hostToDevice;
    private int _disposed;

    private SerialLineRelay(PseudoTerminal device, PseudoTerminal host, LineRelayOptions options)
    {
        _device = device;
        _host = host;
        _line = new LineConditions(options, TimeProvider.System);
        _deviceToHost = new LineDirection("device->host", device, host, _line, options.Seed);
        _hostToDevice = new LineDirection("host->device", host, device, _line, unchecked(options.Seed + 1));
        _deviceToHost.Start();
        _hostToDevice.Start();
    }

    /// <summary>The slave path the device program opens, e.g. /dev/pts/7.</summary>
    public string DevicePort => _device.SlavePath;

    /// <summary>The slave path the host program opens.</summary>
    public string HostPort => _host.SlavePath;

    /// <summary>The line's speed: it carries LineBaud / 10 bytes per second each way (8N1); 0 = unpaced.</summary>
    public int LineBaud
    {
        get => _line.LineBaud;
        set
        {
            LineRelayOptions.ValidateBaud(value, _line.EmulateBaudMismatch);
            _line.LineBaud = value;
        }
    }

    /// <summary>The probability that each bit in transit is flipped, independently (seeded).</summary>
    public double BitErrorRate
    {
        get => _line.BitErrorRate;
        set
        {
            LineRelayOptions.ValidateProbability(value, nameof(BitErrorRate));
            _line.BitErrorRate = value;
        }
    }

    /// <summary>The probability that each byte in transit is lost (seeded).</summary>
    public double DropRate
    {
        get => _line.DropRate;
        set
        {
            LineRelayOptions.ValidateProbability(value, nameof(DropRate));
            _line.DropRate = value;
        }
    }

    /// <summary>A dead line: bytes sent, and bytes still in transit, are read and thrown away.</summary>
    public bool Cut
    {
        get => _line.Cut;
        set => _line.Cut = value;
    }

    /// <summary>
    /// Whether a program whose termios speed differs from <see cref="LineBaud"/> sees only
    /// garbage, as a UART at the wrong baud does: the sender's output speed and the receiver's
    /// input speed are checked every 100 ms.
    /// </summary>
    public bool EmulateBaudMismatch
    {
        get => _line.EmulateBaudMismatch;
        set
        {
            if (value)
            {
                LineRelayOptions.ValidateBaud(_line.LineBaud, emulateBaudMismatch: true);
            }

            _line.EmulateBaudMismatch = value;
        }
    }

    /// <summary>The counters so far, each direction on its own.</summary>
    /// <exception cref="InvalidOperationException">A direction stopped on an error; it is the inner exception.</exception>
    public LineRelayStats Stats
    {
        get
        {
            foreach (var direction in new[] { _deviceToHost, _hostToDevice })
            {
                if (direction.Failure is { } failure)
                {
                    throw new InvalidOperationException($"the relay's {direction.Name} direction stopped: {failure.Message}", failure);
                }
            }

            return new LineRelayStats(_deviceToHost.Stats, _hostToDevice.Stats);
        }
    }

    /// <summary>The device side's pty pair, for tests that look at the master.</summary>
    internal PseudoTerminal DeviceTerminal => _device;

    /// <summary>Opens the two pty pairs and starts relaying.</summary>
    public static SerialLineRelay Start(LineRelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int? startBaud = TerminalSpeed.IsStandard(options.LineBaud) ? options.LineBaud : null;
        var device = PseudoTerminal.Open(startBaud);
        PseudoTerminal? host = null;
        try
        {
            host = PseudoTerminal.Open(startBaud);
            return new SerialLineRelay(device, host, options);
        }
        catch
        {
            host?.Dispose();
            device.Dispose();
            throw;
        }
    }

    /// <summary>Holds everything on the line, both ways, for <paramref name="duration"/>; then it goes on at line rate.</summary>
    public void Stall(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        _line.Stall(duration);
    }

    /// <summary>Stops relaying and hangs up both ports. The counters stay readable.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _deviceToHost.Stop();
        _hostToDevice.Stop();
        _device.Dispose();
        _host.Dispose();
    }
}
