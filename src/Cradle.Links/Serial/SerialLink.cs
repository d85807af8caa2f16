using System.IO.Ports;
using System.Security.Cryptography;
using System.Text;
using Cradle.Protocol;

namespace Cradle.Links.Serial;

/// <summary>
/// The serial link: opening a port, the device's repeated offer of a session and the host's
/// answer, and the Get Connected probe that listens on a port for a device that is offering.
/// See docs/protocol.md, "The serial link".
/// </summary>
public static class SerialLink
{
    /// <summary>The rates Get Connected tries, fastest first (the rates ActiveSync's wizard tried).</summary>
    public static readonly IReadOnlyList<int> CommonBaudRates = [115200, 57600, 38400, 19200, 9600];

    public const int DefaultBaud = 115200;

    /// <summary>How often a device repeats its offer while no host answers.</summary>
    public static readonly TimeSpan OfferInterval = TimeSpan.FromMilliseconds(400);

    private static readonly byte[] Magic = "CRADLE/1\0"u8.ToArray();

    internal static ReadOnlyMemory<byte> AnswerPayload { get; } = Magic;

    /// <summary>Opens a serial port (8N1, no flow control, raw) as a framed line.</summary>
    public static FramedLine Open(string path, int baud)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(baud, 50);
        var port = new SerialPort(path, baud, Parity.None, 8, StopBits.One)
        {
            Handshake = Handshake.None,
            ReadTimeout = SerialPort.InfiniteTimeout,
            WriteTimeout = SerialPort.InfiniteTimeout,
        };
        try
        {
            port.Open();

            // Bytes that waited in the port's buffer arrived before we listened, maybe at
            // another rate: they are not for us (and Get Connected must judge fresh bytes).
            port.DiscardInBuffer();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            port.Dispose();
            throw new LinkClosedException($"cannot open the serial port {path} at {baud} baud: {e.Message}", e);
        }

        return new FramedLine(new OwningStream(port.BaseStream, port), path, baud);
    }

    /// <summary>
    /// The device's side: offers a session every <see cref="OfferInterval"/> until a host answers
    /// ("run Connect while the Get Connected wizard is checking the ports"), then returns the link.
    /// </summary>
    public static async Task<ReliableLink> OfferAsync(FramedLine line, string deviceName, ReliableLinkOptions options, CancellationToken cancellationToken)
    {
        var session = (ushort)RandomNumberGenerator.GetInt32(1, ushort.MaxValue);
        var answered = new TaskCompletionSource<LinkCapabilities>(TaskCreationOptions.RunContinuationsAsynchronously);
        line.Listen(frame =>
        {
            if (frame.Kind == LinkFrameKind.Answer && frame.Session == session && frame.Payload.Span.StartsWith(Magic))
            {
                // A first-release host answers with seq 0: it states nothing.
                answered.TrySetResult(LinkCapabilities.Decode(frame.Seq));
            }
        });

        // seq states this side's link layer (version, receive window); the first release sent 0
        // and ignores it, so an older host answers as before.
        var offer = new LinkFrame(LinkFrameKind.Offer, session, options.Capabilities.Encode(), 0, 0, OfferPayload(deviceName));
        try
        {
            while (!answered.Task.IsCompleted)
            {
                await line.SendAsync(offer, cancellationToken).ConfigureAwait(false);
                await Task.WhenAny(answered.Task, Task.Delay(OfferInterval, options.Time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (line.Failure is { } failure)
                {
                    throw new LinkClosedException($"the serial line {line.Name} failed: {failure.Message}", failure);
                }
            }
        }
        catch
        {
            line.Listen(null);
            throw;
        }

        return new ReliableLink(line, session, answers: false, options, await answered.Task.ConfigureAwait(false));
    }

    /// <summary>The host's side: waits for a device's offer on the line, answers it, returns the link and the offered name.</summary>
    public static async Task<(ReliableLink Link, string DeviceName)> AcceptAsync(FramedLine line, ReliableLinkOptions options, CancellationToken cancellationToken)
    {
        var offered = new TaskCompletionSource<(ushort Session, string Name, LinkCapabilities Peer)>(TaskCreationOptions.RunContinuationsAsynchronously);
        line.Listen(frame =>
        {
            if (TryReadOffer(frame, out var name))
            {
                offered.TrySetResult((frame.Session, name, LinkCapabilities.Decode(frame.Seq)));
            }
        });
        (ushort Session, string Name, LinkCapabilities Peer) offer;
        try
        {
            offer = await offered.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            line.Listen(null);
        }

        var link = new ReliableLink(line, offer.Session, answers: true, options, offer.Peer);
        await line.SendAsync(new LinkFrame(LinkFrameKind.Answer, offer.Session, link.Capabilities.Encode(), 0, 0, AnswerPayload), cancellationToken).ConfigureAwait(false);
        return (link, offer.Name);
    }

    /// <summary>
    /// Get Connected: listens on a port at one rate for <paramref name="listen"/> and says what is
    /// there: a device offering a session (and its name), nothing, or bytes that make no frame
    /// (a device at another rate, or something that is not Cradle). Never answers, never hangs.
    /// </summary>
    public static async Task<SerialProbe> ProbeAsync(string path, int baud, TimeSpan listen, CancellationToken cancellationToken)
    {
        FramedLine line;
        try
        {
            line = Open(path, baud);
        }
        catch (LinkClosedException e)
        {
            return new SerialProbe(path, baud, SerialProbeResult.Unavailable, null, 0, e.Message);
        }

        await using (line.ConfigureAwait(false))
        {
            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            line.Listen(frame =>
            {
                if (TryReadOffer(frame, out var name))
                {
                    found.TrySetResult(name);
                }
            });
            var done = await Task.WhenAny(found.Task, Task.Delay(listen, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (done == found.Task)
            {
                return new SerialProbe(path, baud, SerialProbeResult.DeviceOffering, await found.Task.ConfigureAwait(false), line.BytesRead, null);
            }

            if (line.Failure is { } failure)
            {
                return new SerialProbe(path, baud, SerialProbeResult.Unavailable, null, line.BytesRead, failure.Message);
            }

            return line.BytesRead == 0
                ? new SerialProbe(path, baud, SerialProbeResult.Silent, null, 0, null)
                : new SerialProbe(path, baud, SerialProbeResult.Noise, null, line.BytesRead, $"{line.BytesRead} bytes, no Cradle frame among them");
        }
    }

    /// <summary>Serial ports the system lists, plus the ones configured by path, without duplicates.</summary>
    public static IReadOnlyList<string> PortsToScan(IEnumerable<string> configured)
    {
        string[] system;
        try
        {
            system = SerialPort.GetPortNames();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            system = [];
        }

        return [.. configured.Concat(system.Order(StringComparer.Ordinal)).Distinct(StringComparer.Ordinal)];
    }

    private static ReadOnlyMemory<byte> OfferPayload(string deviceName)
    {
        var name = Encoding.UTF8.GetBytes(deviceName);
        var payload = new byte[Magic.Length + Math.Min(name.Length, 256)];
        Magic.CopyTo(payload, 0);
        name.AsSpan(0, payload.Length - Magic.Length).CopyTo(payload.AsSpan(Magic.Length));
        return payload;
    }

    private static bool TryReadOffer(LinkFrame frame, out string deviceName)
    {
        deviceName = "";
        if (frame.Kind != LinkFrameKind.Offer || frame.Session == 0 || !frame.Payload.Span.StartsWith(Magic))
        {
            return false;
        }

        deviceName = Encoding.UTF8.GetString(frame.Payload.Span[Magic.Length..]);
        return true;
    }
}

/// <summary>What Get Connected found on one port at one rate.</summary>
public enum SerialProbeResult
{
    DeviceOffering,
    Silent,
    Noise,
    Unavailable,
}

/// <summary>One probe's outcome: the port, the rate, what was there.</summary>
public sealed record SerialProbe(string Port, int Baud, SerialProbeResult Result, string? DeviceName, long BytesHeard, string? Detail);
