using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Cradle.Content;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Google.Protobuf;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>Chunk ids per request during a restore.</summary>
    private const int RestoreChunksPerRequest = 256;

    /// <summary>
    /// Buffers a restore's fetcher fills for the writer (one of them the writer's): enough to keep
    /// both threads busy, few enough for a device — each grows to the largest chunk it held, so at
    /// most 8 MiB of 1 MiB chunks, and about 2 MiB of the chunker's usual ones. Its own buffers, not
    /// the shared pool: rented on one thread and returned on another, the shared pool kept up to
    /// two dozen arrays of every size (the device's peak memory grew by 20 MiB).
    /// </summary>
    private const int RestoreBuffers = 8;

    /// <summary>
    /// Asks the host for the chunks in the order the files need them, a batch at a time, and
    /// checks each one against its id — on a thread of its own, a few chunks ahead of the writer,
    /// so that receiving, decompressing and hashing overlap writing the files (the restore's two
    /// halves took turns on one thread). The writer takes the chunks in order.
    /// </summary>
    private sealed class ChunkFetcher : IAsyncDisposable
    {
        private readonly DeviceSession _session;
        private readonly List<ChunkId> _order;
        private readonly Channel<(byte[] Buffer, int Length)> _ready = Channel.CreateBounded<(byte[], int)>(
            new BoundedChannelOptions(RestoreBuffers) { SingleReader = true, SingleWriter = true });
        private readonly Channel<byte[]> _free = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(RestoreBuffers) { SingleReader = true, SingleWriter = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _fetching;
        private ExceptionDispatchInfo? _failure;
        private byte[]? _lent;
        private int _taken;

        public ChunkFetcher(DeviceSession session, List<ChunkId> order)
        {
            _session = session;
            _order = order;
            for (var i = 0; i < RestoreBuffers; i++)
            {
                _free.Writer.TryWrite([]);
            }

            _fetching = order.Count == 0 ? Task.CompletedTask : Task.Run(() => FetchAsync(_stop.Token), CancellationToken.None);
        }

        /// <summary>The next chunk's checked bytes, which must be <paramref name="expected"/>; valid until the next call.</summary>
        public async ValueTask<ReadOnlyMemory<byte>> NextAsync(ChunkId expected, CancellationToken cancellationToken)
        {
            GiveBack();
            if (_taken >= _order.Count || _order[_taken] != expected)
            {
                throw new InvalidOperationException($"the restore asked for chunk {expected} out of the order it requested");
            }

            _taken++;
            while (true)
            {
                if (_ready.Reader.TryRead(out var chunk))
                {
                    _lent = chunk.Buffer;
                    return chunk.Buffer.AsMemory(0, chunk.Length);
                }

                if (!await _ready.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The fetcher stopped: its failure is the restore's.
                    _failure?.Throw();
                    throw new InvalidOperationException("the restore's fetcher ended before the last chunk");
                }
            }
        }

        private async Task FetchAsync(CancellationToken cancellationToken)
        {
            using var codec = new ChunkCodec();
            var requested = 0;
            var received = 0;
            try
            {
                while (received < _order.Count)
                {
                    // Two requests in flight: the host reads and sends the next batch while this
                    // side takes the current one (one at a time left each side idle in turn).
                    while (requested < _order.Count && requested - received <= RestoreChunksPerRequest)
                    {
                        var request = new ChunkRequest();
                        var end = Math.Min(_order.Count, requested + RestoreChunksPerRequest);
                        for (var i = requested; i < end; i++)
                        {
                            request.Ids.Add(ByteString.CopyFrom(_order[i].ToArray()));
                        }

                        await _session._channel.SendAsync(new Envelope { ChunkRequest = request }, cancellationToken).ConfigureAwait(false);
                        requested = end;
                    }

                    var chunk = Expect(await _session._channel.ReceiveAsync(cancellationToken).ConfigureAwait(false), Envelope.BodyOneofCase.ChunkData).ChunkData;
                    var id = _order[received++];
                    if (ChunkId.Read(chunk.Id.Span) != id)
                    {
                        throw new CradleProtocolException($"the host sent chunk {ChunkId.Read(chunk.Id.Span)} where {id} was asked for");
                    }

                    // Grown by the claim only within the limit; Open refuses a claim beyond it.
                    var buffer = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    var needed = (int)Math.Clamp(chunk.RawLength, 1, ChunkerOptions.AbsoluteMaxSize);
                    if (buffer.Length < needed)
                    {
                        buffer = new byte[Math.Max(needed, 64 * 1024)];
                    }

                    int length;
                    try
                    {
                        length = ChunkMessage.Open(codec, chunk, id, buffer).Content.Length;
                    }
                    catch (CradleProtocolException e)
                    {
                        // The host sends chunks as its store holds them, unverified: told why, it
                        // checks them itself and names the damaged pack to its operator.
                        await _session.SayGoodbyeAsync($"restore stopped: {e.Message}").ConfigureAwait(false);
                        throw;
                    }

                    await _ready.Writer.WriteAsync((buffer, length), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                // Handed to the writer, which throws it where it waits for the next chunk.
                _failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                _ready.Writer.TryComplete();
            }
        }

        private void GiveBack()
        {
            if (_lent is not null)
            {
                _free.Writer.TryWrite(_lent);
                _lent = null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _fetching.ConfigureAwait(false);
            _stop.Dispose();
        }
    }
}
