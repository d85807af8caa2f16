using Cradle.Protocol.Messages;
using Cradle.Protocol;

namespace Cradle.Content;

/// <summary>A <c>ChunkData</c> message from the other side, checked: the same rules for the host receiving a backup and the device receiving a restore.</summary>
public static class ChunkMessage
{
    /// <summary>
    /// Checks the claimed length and compression, decompresses into <paramref name="buffer"/>
    /// (at least the claimed raw length once that is within <see cref="ChunkerOptions.AbsoluteMaxSize"/>) and verifies the bytes
    /// against <paramref name="id"/>. Returns the compression as stored and the raw bytes.
    /// </summary>
    public static (ChunkCompression Compression, Memory<byte> Content) Open(ChunkCodec codec, ChunkData chunk, ChunkId id, byte[] buffer)
    {
        if (chunk.RawLength == 0 || chunk.RawLength > ChunkerOptions.AbsoluteMaxSize)
        {
            throw new CradleProtocolException($"chunk {id} claims {chunk.RawLength} bytes; chunks are 1 to {ChunkerOptions.AbsoluteMaxSize} bytes");
        }

        var compression = chunk.Compression switch
        {
            Compression.None => ChunkCompression.None,
            Compression.Zstd => ChunkCompression.Zstd,
            _ => throw new CradleProtocolException($"chunk {id} has unknown compression {(int)chunk.Compression}"),
        };
        var content = buffer.AsMemory(0, (int)chunk.RawLength);
        codec.Decompress(compression, chunk.Data.Span, content.Span);
        if (ChunkId.Of(content.Span) != id)
        {
            throw new CradleProtocolException($"chunk {id}: its data does not match its hash");
        }

        return (compression, content);
    }
}
