using System.Net.Sockets;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Wire;

/// <summary>
/// Exact reads and writes on a device connection with a deadline on every read: a device that stops
/// answering ends in <see cref="LinkClosedException"/> after the timeout, never in a hang.
/// </summary>
internal static class StreamIo
{
    public static async ValueTask ReadExactlyAsync(Stream stream, Memory<byte> buffer, TimeSpan timeout, TimeProvider time, string what, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        var read = 0;
        try
        {
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer[read..], deadline.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new LinkClosedException(read == 0
                        ? $"the device closed the connection while the host waited for {what} (cable out?)"
                        : $"the device closed the connection in the middle of {what} ({read} of {buffer.Length} bytes came; cable out?)");
                }

                read += n;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LinkClosedException($"the device did not send {what} within {Seconds(timeout)} ({read} of {buffer.Length} bytes came)", new TimeoutException());
        }
        catch (Exception e) when (IsLinkFailure(e))
        {
            throw Lost(e, $"waited for {what}");
        }
    }

    public static async ValueTask<uint> ReadU32Async(Stream stream, TimeSpan timeout, TimeProvider time, string what, CancellationToken cancellationToken)
    {
        var buffer = new byte[4];
        await ReadExactlyAsync(stream, buffer, timeout, time, what, cancellationToken).ConfigureAwait(false);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(buffer);
    }

    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> bytes, TimeSpan timeout, TimeProvider time, string what, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await stream.WriteAsync(bytes, deadline.Token).ConfigureAwait(false);
            await stream.FlushAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LinkClosedException($"the device did not take {what} within {Seconds(timeout)} (its receive window stayed full)", new TimeoutException());
        }
        catch (Exception e) when (IsLinkFailure(e))
        {
            throw Lost(e, $"sent {what}");
        }
    }

    private static bool IsLinkFailure(Exception e) => e is IOException or SocketException or ObjectDisposedException;

    private static LinkClosedException Lost(Exception e, string doing) => e is ObjectDisposedException
        ? new LinkClosedException($"the connection to the device was closed while the host {doing}", e)
        : new LinkClosedException($"the connection to the device failed while the host {doing}: {e.Message}", e);

    public static async ValueTask<ushort> ReadU16Async(Stream stream, TimeSpan timeout, TimeProvider time, string what, CancellationToken cancellationToken)
    {
        var buffer = new byte[2];
        await ReadExactlyAsync(stream, buffer, timeout, time, what, cancellationToken).ConfigureAwait(false);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(buffer);
    }

    public static bool IsTimeout(LinkClosedException e) => e.InnerException is TimeoutException;

    public static string Seconds(TimeSpan span) =>
        span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.#} s" : $"{span.TotalMilliseconds:0} ms";
}
