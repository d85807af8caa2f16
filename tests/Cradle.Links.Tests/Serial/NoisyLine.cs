using System.IO.Pipelines;
using Cradle.Links.Serial;

namespace Cradle.Links.Tests.Serial;

/// <summary>
/// An in-memory serial cable for unit tests: two framed lines joined by a relay that can flip
/// bits or cut the line. The real thing (pseudo-terminals and SerialPort) is tested end to end.
/// </summary>
internal sealed class NoisyLine : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _relays;
    private readonly Random _random;

    public NoisyLine(double bitErrorRate = 0, int seed = 1)
    {
        _random = new Random(seed);
        BitErrorRate = bitErrorRate;
        var deviceOut = new Pipe();
        var hostIn = new Pipe();
        var hostOut = new Pipe();
        var deviceIn = new Pipe();
        Device = new FramedLine(new DuplexStream(deviceIn.Reader.AsStream(), deviceOut.Writer.AsStream()), "device-line");
        Host = new FramedLine(new DuplexStream(hostIn.Reader.AsStream(), hostOut.Writer.AsStream()), "host-line");
        _relays = [Relay(deviceOut.Reader, hostIn.Writer, deviceToHost: true), Relay(hostOut.Reader, deviceIn.Writer, deviceToHost: false)];
    }

    public FramedLine Device { get; }

    public FramedLine Host { get; }

    public double BitErrorRate { get; set; }

    /// <summary>When set, everything on the line is thrown away.</summary>
    public bool Cut { get; set; }

    public long BitsFlipped { get; private set; }

    /// <summary>Numbers (from 0) of the frames device → host to lose: their bytes are thrown away, their delimiter kept.</summary>
    public HashSet<int> LoseDeviceFrames { get; } = [];

    /// <summary>Frames device → host seen so far (delimiters passed).</summary>
    public int DeviceFrames { get; private set; }

    private async Task Relay(PipeReader from, PipeWriter to, bool deviceToHost)
    {
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(_stop.Token);
                foreach (var segment in read.Buffer)
                {
                    if (Cut)
                    {
                        continue;
                    }

                    var bytes = segment.ToArray();
                    if (deviceToHost && LoseDeviceFrames.Count > 0)
                    {
                        bytes = WithoutLostFrames(bytes);
                    }

                    lock (_random)
                    {
                        for (var i = 0; i < bytes.Length * 8 && BitErrorRate > 0; i++)
                        {
                            if (_random.NextDouble() < BitErrorRate)
                            {
                                bytes[i / 8] ^= (byte)(1 << (i % 8));
                                BitsFlipped++;
                            }
                        }
                    }

                    await to.WriteAsync(bytes, _stop.Token);
                }

                from.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    await to.CompleteAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Test over.
        }
    }

    private byte[] WithoutLostFrames(byte[] bytes)
    {
        var kept = new List<byte>(bytes.Length);
        foreach (var b in bytes)
        {
            if (b == 0 || !LoseDeviceFrames.Contains(DeviceFrames))
            {
                kept.Add(b);
            }

            if (b == 0)
            {
                DeviceFrames++;
            }
        }

        return [.. kept];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Device.DisposeAsync();
        await Host.DisposeAsync();
        await Task.WhenAll(_relays);
        _stop.Dispose();
    }
}
