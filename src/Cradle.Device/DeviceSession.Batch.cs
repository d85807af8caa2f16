using Cradle.Content;
using Cradle.Protocol;

namespace Cradle.Device;

public sealed partial class DeviceSession
{
    /// <summary>The chunks and entries gathered for one query, with the read chunks' bytes.</summary>
    private sealed class Batch(int batchBytes)
    {
        public List<BatchChunk> Chunks { get; } = [];
        public List<PendingFile> Files { get; } = [];
        /// <summary>The read chunks' bytes: room for a full batch and the chunk that fills it (the device chunks with the default sizes).</summary>
        public byte[] Data { get; private set; } = new byte[batchBytes + ChunkerOptions.Default.MaxSize];
        public int DataLength { get; private set; }

        /// <summary>The query that asked the host about these chunks (0 before it went out).</summary>
        public uint QueryId { get; set; }

        public void Append(ChunkId id, ReadOnlySpan<byte> chunk)
        {
            if (DataLength + chunk.Length > Data.Length)
            {
                // A chunk larger than the default's largest (a chunker of other sizes): make room.
                var data = Data;
                Array.Resize(ref data, DataLength + Math.Max(chunk.Length, ChunkerOptions.AbsoluteMaxSize));
                Data = data;
            }

            chunk.CopyTo(Data.AsSpan(DataLength));
            Chunks.Add(new BatchChunk(id, DataLength, chunk.Length, -1));
            DataLength += chunk.Length;
        }

        public void Clear()
        {
            Chunks.Clear();
            Files.Clear();
            DataLength = 0;
            QueryId = 0;
        }
    }

    /// <summary>A chunk in the current batch: its data at <c>Offset</c> in the batch buffer, or (Offset -1) known only from the cache.</summary>
    private readonly record struct BatchChunk(ChunkId Id, int Offset, int Length, int FileIndex);

    /// <summary>A file or folder whose entry goes out with this batch; <c>Partial</c> marks an early part of a large cached file, whose entry goes with its last part.</summary>
    private sealed record PendingFile(ScanEntry Entry, ChunkId[] Chunks, bool CacheHit, bool Cacheable, bool Partial = false);

    /// <summary>Entries per FileEntries message: far below the frame cap even with long paths.</summary>
    private const int MaxEntriesPerBatch = 512;
}
