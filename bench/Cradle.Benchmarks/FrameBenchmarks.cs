using System.Buffers;
using BenchmarkDotNet.Attributes;
using Cradle.Links;
using Cradle.Protocol;
using Cradle.Protocol.Messages;
using Google.Protobuf;

namespace Cradle.Benchmarks;

/// <summary>
/// The two frames a first backup is made of: a chunk (64 KiB of incompressible data, sent as
/// it is) and a query of 2,048 ids (the device's batch size; 64 KiB of ids). Encode and decode
/// are the frame header plus protobuf, as <see cref="MessageChannel"/> does them; the round
/// trip is a real <see cref="MessageChannel"/> sending into and receiving from a memory stream.
/// </summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    /// <summary>The payload either message carries: 64 KiB of chunk data, or 2,048 ids of 32 bytes.</summary>
    private const int PayloadLength = 64 * 1024;

    private Envelope _message = null!;
    private byte[] _frame = null!;
    private byte[] _buffer = null!;
    private MemoryStream _stream = null!;
    private MessageChannel _channel = null!;

    [Params("ChunkData", "ChunkQuery")]
    public string Message { get; set; } = "ChunkData";

    [GlobalSetup]
    public void Setup()
    {
        _message = Message switch
        {
            "ChunkData" => ChunkDataMessage(),
            "ChunkQuery" => ChunkQueryMessage(),
            _ => throw new InvalidOperationException($"unknown message {Message}"),
        };
        var size = _message.CalculateSize();
        _frame = new byte[FrameCodec.HeaderLength + size];
        FrameCodec.WriteHeader(_frame, size);
        _message.WriteTo(_frame.AsSpan(FrameCodec.HeaderLength));
        _buffer = new byte[_frame.Length];
        _stream = new MemoryStream();
        _channel = new MessageChannel(_stream, new ChannelOptions { KeepaliveInterval = TimeSpan.Zero });
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _channel.DisposeAsync().ConfigureAwait(false);

    [Benchmark]
    [BytesPerOperation(PayloadLength)]
    public int Encode()
    {
        var size = _message.CalculateSize();
        FrameCodec.WriteHeader(_buffer, size);
        _message.WriteTo(_buffer.AsSpan(FrameCodec.HeaderLength, size));
        return size;
    }

    [Benchmark]
    [BytesPerOperation(PayloadLength)]
    public Envelope Decode()
    {
        var length = FrameCodec.ReadHeader(_frame);
        return Envelope.Parser.ParseFrom(new ReadOnlySequence<byte>(_frame, FrameCodec.HeaderLength, length));
    }

    [Benchmark]
    [BytesPerOperation(PayloadLength)]
    public async ValueTask<Envelope> ChannelRoundTrip()
    {
        _stream.Position = 0;
        await _channel.SendAsync(_message, CancellationToken.None).ConfigureAwait(false);
        _stream.Position = 0;
        return await _channel.ReceiveAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static Envelope ChunkDataMessage()
    {
        var data = BenchmarkData.Random(11, PayloadLength);
        return new Envelope
        {
            ChunkData = new ChunkData
            {
                Id = ByteString.CopyFrom(ChunkId.Of(data).ToArray()),
                Compression = Compression.None,
                RawLength = PayloadLength,
                Data = ByteString.CopyFrom(data),
            },
        };
    }

    private static Envelope ChunkQueryMessage()
    {
        var ids = BenchmarkData.Random(12, PayloadLength);
        var query = new ChunkQuery { QueryId = 1 };
        for (var i = 0; i < ids.Length; i += ChunkId.Length)
        {
            query.Ids.Add(ByteString.CopyFrom(ids, i, ChunkId.Length));
        }

        return new Envelope { ChunkQuery = query };
    }
}
