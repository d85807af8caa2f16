using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Cradle.ActiveSync.Emulator;

/// <summary>The RAPI server: one per connection the host asked for, requests served in order.</summary>
public sealed partial class EmulatedDevice
{
    /// <summary>The largest request the device reads (a write of 1 MiB and its header fit).</summary>
    public const int MaxRequestBytes = 4 * 1024 * 1024;

    private static readonly Dictionary<uint, string> Rapi2Calls = new()
    {
        [0x0E] = "CeProcessConfig", [0x11] = "CeFindFirstFile", [0x12] = "CeFindNextFile", [0x13] = "CeFindClose",
        [0x14] = "CeGetFileAttributes", [0x16] = "CeCreateFile", [0x17] = "CeReadFile", [0x18] = "CeWriteFile",
        [0x19] = "CeCloseHandle", [0x1A] = "CeFindAllFiles", [0x26] = "CeSetFilePointer", [0x28] = "CeCreateDirectory",
        [0x29] = "CeRemoveDirectory", [0x2B] = "CeMoveFile", [0x2D] = "CeDeleteFile", [0x2E] = "CeGetFileSize", [0x2F] = "CeRegOpenKeyEx",
        [0x30] = "CeRegEnumKeyEx", [0x31] = "CeRegCreateKeyEx", [0x32] = "CeRegCloseKey", [0x33] = "CeRegDeleteKey",
        [0x34] = "CeRegEnumValue", [0x35] = "CeRegDeleteValue", [0x36] = "CeRegQueryInfoKey", [0x37] = "CeRegQueryValueEx",
        [0x38] = "CeRegSetValueEx", [0x39] = "CeGetStoreInformation", [0x41] = "CeGetFileTime", [0x42] = "CeSetFileTime",
        [0x4B] = "CeGetSpecialFolderPath", [0x5C] = "CeGetDiskFreeSpaceEx",
    };

    private static readonly Dictionary<uint, string> Rapi1Calls = new()
    {
        [0x00] = "CeFindFirstFile", [0x01] = "CeFindNextFile", [0x02] = "CeFindClose", [0x03] = "CeGetFileAttributes",
        [0x05] = "CeCreateFile", [0x06] = "CeReadFile", [0x07] = "CeWriteFile", [0x08] = "CeCloseHandle",
        [0x09] = "CeFindAllFiles", [0x15] = "CeSetFilePointer", [0x17] = "CeCreateDirectory", [0x18] = "CeRemoveDirectory",
        [0x1A] = "CeMoveFile", [0x1C] = "CeDeleteFile", [0x1D] = "CeGetFileSize", [0x1E] = "CeRegOpenKeyEx", [0x20] = "CeRegCreateKeyEx",
        [0x21] = "CeRegCloseKey", [0x22] = "CeRegDeleteKey", [0x24] = "CeRegDeleteValue", [0x26] = "CeRegQueryValueEx",
        [0x27] = "CeRegSetValueEx", [0x29] = "CeGetStoreInformation", [0x44] = "CeGetSpecialFolderPath", [0x56] = "CeProcessConfig",
    };

    private async Task ServeRapiSessionAsync(uint requestId)
    {
        Socket socket;
        try
        {
            socket = await ConnectToHostAsync();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Counters.Note($"RAPI connection {requestId} failed: {e.Message}");
            return;
        }

        Counters.Count("rapi-sessions");
        var stream = new NetworkStream(socket, ownsSocket: false);
        var session = new RapiSession(this, Options.EffectiveRapiVersion);
        var replies = Channel.CreateUnbounded<(long DueTicks, byte[] Frame, bool VanishAfter)>(new UnboundedChannelOptions { SingleReader = true });
        var outstanding = new StrongBox<int>();
        var writer = WriteRepliesAsync(stream, replies.Reader, outstanding);
        try
        {
            await WriteWordsAsync(stream, requestId);
            var header = new byte[4];
            while (true)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
                if (length < 4 || length > MaxRequestBytes)
                {
                    throw new InvalidDataException($"a request of {length} bytes");
                }

                var body = new byte[length];
                await stream.ReadExactlyAsync(body, _stop.Token);
                var id = BinaryPrimitives.ReadUInt32LittleEndian(body);

                // Requests read whose replies are not written yet: above 1 only when the host pipelines.
                var waiting = Interlocked.Increment(ref outstanding.Value);
                Counters.Max("max-requests-in-flight", waiting);
                var table = session.Version == 2 ? Rapi2Calls : Rapi1Calls;
                var name = table.GetValueOrDefault(id) ?? $"unknown-0x{id:X2}";
                Counters.Count(name);

                if (string.Equals(Faults.NeverReplyTo, name, StringComparison.Ordinal))
                {
                    Counters.Count("never-replied");
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                var delay = Faults.ReplyDelayMsByCall.TryGetValue(name, out var d) ? d : Faults.ReplyDelayMs;
                if (delay > 0 && !Faults.DelayIsLatency)
                {
                    await Task.Delay(delay, _stop.Token);
                }

                var reply = session.Handle(name, new RequestReader(body[4..]));
                var frame = string.Equals(Faults.OversizedReplyTo, name, StringComparison.Ordinal) ? reply.Body.Framed(0x7FFFFFF0) : reply.Body.Framed(reply.ClaimedLength);
                var due = Environment.TickCount64 + (Faults.DelayIsLatency ? delay : 0);
                await replies.Writer.WriteAsync((due, frame, reply.VanishMidway), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidDataException or OperationCanceledException or EndOfStreamException)
        {
            Counters.Note($"RAPI session {requestId} ended: {e.Message}");
        }
        finally
        {
            replies.Writer.TryComplete();
            await writer;
            Forget(socket);
            session.CloseAll();
        }
    }

    private async Task WriteRepliesAsync(Stream stream, ChannelReader<(long DueTicks, byte[] Frame, bool VanishAfter)> replies, StrongBox<int> outstanding)
    {
        try
        {
            await foreach (var (due, frame, vanish) in replies.ReadAllAsync(_stop.Token))
            {
                var wait = due - Environment.TickCount64;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait), _stop.Token);
                }

                if (vanish)
                {
                    // Half the reply, then nothing: the device is gone in the middle of a read.
                    await stream.WriteAsync(frame.AsMemory(0, frame.Length / 2), _stop.Token);
                    await stream.FlushAsync(_stop.Token);
                    Counters.Count("vanished-mid-read");
                    Vanish();
                    return;
                }

                // Counted out before it is written: the host may send its next request as soon as
                // this reply has arrived, before WriteAsync here returns.
                Interlocked.Decrement(ref outstanding.Value);
                await stream.WriteAsync(frame, _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Counters.Note($"reply writer stopped: {e.Message}");
        }
    }

    /// <summary>A reply: its body, a length word that may lie, and whether the device vanishes while sending it.</summary>
    internal sealed record RapiReply(ReplyWriter Body, uint? ClaimedLength = null, bool VanishMidway = false);
}
