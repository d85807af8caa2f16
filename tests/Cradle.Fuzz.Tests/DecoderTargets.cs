using Cradle.Content;
using Cradle.Device;
using Cradle.Links.Serial;
using Cradle.Links;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Cradle.Store;
using Google.Protobuf;
using EntryKind = Cradle.Content.EntryKind;

namespace Cradle.Fuzz;

/// <summary>
/// One decoder that reads bytes from outside (the wire, a serial line, the disk), driven the
/// way Cradle drives it. <see cref="Run"/> either returns or throws one of
/// <see cref="Allowed"/>, the exception types the decoder documents; anything else is a bug.
/// Shared by the property tests and the AFL harness (tests/Cradle.Fuzz.Afl).
/// </summary>
public abstract class DecoderTarget
{
    /// <summary>The corpus folder name (tests/corpus/NAME).</summary>
    public abstract string Name { get; }

    /// <summary>The exception types a hostile input may cause.</summary>
    public abstract IReadOnlyList<Type> Allowed { get; }

    /// <summary>Valid inputs: golden seeds for the corpus and starting points for mutation.</summary>
    public abstract IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>Decodes <paramref name="input"/> as Cradle does; returns what was decoded, for round-trip checks.</summary>
    public abstract object? Run(byte[] input);

    public bool IsAllowed(Exception e) => Allowed.Any(t => t.IsInstanceOfType(e));
}

/// <summary>
/// Frames on the session stream, read by the real <see cref="MessageChannel"/>: the 4-byte
/// length (FrameCodec), then one protobuf Envelope, until the bytes run out.
/// </summary>
public sealed class FramesTarget : DecoderTarget
{
    private static readonly ChannelOptions NoKeepalive = new() { KeepaliveInterval = TimeSpan.Zero };

    public override string Name => "frames";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(CradleProtocolException), typeof(LinkClosedException)];

    public override IReadOnlyList<byte[]> Seeds { get; } =
    [
        Frame(new Envelope { DeviceHello = new DeviceHello { ProtocolVersion = 1, DeviceName = "MX7", Model = "m", PartnershipsHeld = 1, Software = "cradle 1" } }),
        Frame(new Envelope { Authenticate = new Authenticate { Number = 0xCAFEF00D, Proof = ByteString.CopyFrom(new byte[32]) } }),
        Frame(new Envelope { ChunkQuery = new ChunkQuery { QueryId = 7, Ids = { ByteString.CopyFrom(new byte[32]), ByteString.CopyFrom(Enumerable.Repeat((byte)1, 32).ToArray()) } } }),
        Frame(new Envelope { FileEntries = new FileEntries { Entries = { new FileEntry { Path = "data/a.txt", Size = 3, MtimeUnixNs = 1, Mode = 420, ChunkIds = { ByteString.CopyFrom(new byte[32]) } } } } }),
        Frame(new Envelope { Ping = new Ping { Nonce = 1 } }).Concat(Frame(new Envelope { Goodbye = new Goodbye { Reason = "backup done" } })).ToArray(),
    ];

    public static byte[] Frame(Envelope message)
    {
        var payload = message.ToByteArray();
        var frame = new byte[FrameCodec.HeaderLength + payload.Length];
        FrameCodec.WriteHeader(frame, payload.Length);
        payload.CopyTo(frame, FrameCodec.HeaderLength);
        return frame;
    }

    /// <summary>Every envelope the channel hands out, until the input ends (a clean end is <see cref="LinkClosedException"/>).</summary>
    public override object? Run(byte[] input) => ReceiveAll(new ReplayStream(input));

    public static List<Envelope> ReceiveAll(Stream stream)
    {
        var received = new List<Envelope>();
        var channel = new MessageChannel(stream, NoKeepalive);
        try
        {
            while (true)
            {
                // The replay stream completes every read at once, so this never waits.
                var pending = channel.ReceiveAsync(CancellationToken.None);
                if (!pending.IsCompleted)
                {
                    throw new InvalidOperationException("the channel waited on a stream that never waits");
                }

                received.Add(pending.GetAwaiter().GetResult());
            }
        }
        catch (LinkClosedException) when (stream is ReplayStream { AtEnd: true })
        {
            return received;
        }
    }
}

/// <summary>One serial link frame (COBS + header + CRC), as the framed line hands it over.</summary>
public sealed class LinkFrameTarget : DecoderTarget
{
    public override string Name => "linkframe";

    public override IReadOnlyList<Type> Allowed { get; } = [];

    public override IReadOnlyList<byte[]> Seeds { get; } =
    [
        Encode(new LinkFrame(LinkFrameKind.Offer, 0x1234, 0, 0, 0, "CRADLE/1\0MX7"u8.ToArray())),
        Encode(new LinkFrame(LinkFrameKind.Data, 7, 3, 2, 0x5, Enumerable.Range(0, LinkFrame.MaxPayload).Select(i => (byte)(i % 251)).ToArray())),
        Encode(new LinkFrame(LinkFrameKind.Ack, 7, 0, 9, 0xFFFFFFFF, Array.Empty<byte>())),
    ];

    /// <summary>The frame's bytes on the line without the closing 0x00 (what the line hands to the decoder).</summary>
    public static byte[] Encode(LinkFrame frame)
    {
        var buffer = new byte[LinkFrame.MaxEncodedLength];
        var n = frame.Encode(buffer);
        return buffer[..(n - 1)];
    }

    public override object? Run(byte[] input) => LinkFrame.TryDecode(input, out var frame) ? frame : null;
}

/// <summary>A <c>ChunkData</c> message's bytes checked as the host checks a received chunk (id, length, compression, zstd, hash).</summary>
public sealed class ChunkDataTarget : DecoderTarget
{
    private readonly ChunkCodec _codec = new();
    private readonly byte[] _buffer = new byte[ChunkerOptions.AbsoluteMaxSize];

    public override string Name => "chunkdata";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(CradleProtocolException)];

    public override IReadOnlyList<byte[]> Seeds { get; } =
    [
        Chunk(Enumerable.Range(0, 5000).Select(i => (byte)(i % 7)).ToArray(), compress: true),
        Chunk("raw bytes, not worth compressing"u8.ToArray(), compress: false),
    ];

    public static byte[] Chunk(byte[] raw, bool compress)
    {
        using var codec = new ChunkCodec();
        var (compression, data) = compress ? codec.Compress(raw) : (ChunkCompression.None, raw);
        return new ChunkData
        {
            Id = ByteString.CopyFrom(ChunkId.Of(raw).ToArray()),
            Compression = (Compression)compression,
            RawLength = (uint)raw.Length,
            Data = ByteString.CopyFrom(data.Span),
        }.ToByteArray();
    }

    public override object? Run(byte[] input)
    {
        ChunkData chunk;
        try
        {
            chunk = ChunkData.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            // What MessageChannel makes of a payload that does not parse.
            throw new CradleProtocolException($"malformed message: {e.Message}", e);
        }

        var (_, content) = ChunkMessage.Open(_codec, chunk, ChunkId.Read(chunk.Id.Span), _buffer);
        return content.ToArray();
    }
}

/// <summary>A snapshot tree (the file list of a snapshot, as read back from the store).</summary>
public sealed class SnapshotTreeTarget : DecoderTarget
{
    public override string Name => "tree";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(StoreFormatException)];

    public override IReadOnlyList<byte[]> Seeds { get; } =
    [
        SnapshotTree.Serialize([]),
        SnapshotTree.Serialize(
        [
            new TreeEntry("data", EntryKind.Directory, 0, 1_700_000_000_000_000_000, 0x1ED, []),
            new TreeEntry("data/a.txt", EntryKind.File, 70_000, 1_700_000_000_000_000_001, 0x1A4, [ChunkId.Of("a"u8), ChunkId.Of("b"u8)]),
            new TreeEntry("data/é ü/b", EntryKind.File, 0, -5, 0, []),
        ]),
    ];

    public override object? Run(byte[] input) => SnapshotTree.Parse(input);
}

/// <summary>Pack file bytes walked record by record, as a checker reads a pack: header, record headers, data decompressed and hashed, tail.</summary>
public sealed class PackRecordsTarget : DecoderTarget
{
    private readonly ChunkCodec _codec = new();
    private readonly byte[] _buffer = new byte[ChunkerOptions.AbsoluteMaxSize];

    public override string Name => "pack";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(StoreFormatException), typeof(CradleProtocolException)];

    public override IReadOnlyList<byte[]> Seeds { get; } = [PackFiles.Small()];

    public override object? Run(byte[] input)
    {
        var span = input.AsSpan();
        PackFormat.ReadHeader(span, "fuzz.pack");
        if (span.Length < PackFormat.HeaderLength + PackFormat.TailLength)
        {
            throw new StoreFormatException("pack is shorter than its header and tail");
        }

        var footerOffset = PackFiles.FooterOffset(span);
        var ids = new List<ChunkId>();
        long offset = PackFormat.HeaderLength;
        while (offset < footerOffset)
        {
            if (footerOffset - offset < PackFormat.RecordHeaderLength)
            {
                throw new StoreFormatException($"record at offset {offset} is cut short");
            }

            var entry = PackFormat.ReadRecordHeader(span.Slice((int)offset, PackFormat.RecordHeaderLength), offset);
            if (entry.DataOffset + entry.StoredLength > footerOffset)
            {
                throw new StoreFormatException($"record at offset {offset} runs past the footer");
            }

            var raw = _buffer.AsSpan(0, entry.RawLength);
            _codec.Decompress(entry.Compression, span.Slice((int)entry.DataOffset, entry.StoredLength), raw);
            if (ChunkId.Of(raw) != entry.Id)
            {
                throw new StoreFormatException($"record at offset {offset} does not match its hash");
            }

            ids.Add(entry.Id);
            offset = entry.DataOffset + entry.StoredLength;
        }

        return ids;
    }
}

/// <summary>The device's files cache (<c>volatile/files.cache</c>), loaded from a file.</summary>
public sealed class FilesCacheTarget(string folder) : DecoderTarget
{
    public static readonly ScanOrder Order = new([new DataFolder("data", "/data")]);

    public override string Name => "files-cache";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(StoreFormatException)];

    public override IReadOnlyList<byte[]> Seeds { get; } = [StateFiles.FilesCache(folder)];

    public override object? Run(byte[] input)
    {
        var path = Path.Combine(folder, "files.cache");
        File.WriteAllBytes(path, input);
        using var cache = FilesCache.Open(path, Order);
        // Every entry is read: a cache that passes its checks is decoded to the end.
        _ = cache.Lookup(new ScanEntry("data/\uffff", "/dev/null", EntryKind.File, 0, 0, 0, 0));
        return cache.Count;
    }
}

/// <summary>The device's identity file (<c>persistent/device.json</c>) loaded by <see cref="DeviceState"/>.</summary>
public sealed class DeviceIdentityTarget(string folder) : DecoderTarget
{
    public override string Name => "device-json";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(DeviceStateException)];

    public override IReadOnlyList<byte[]> Seeds { get; } = [StateFiles.Identity(folder)];

    public override object? Run(byte[] input)
    {
        var state = new DeviceState(folder);
        File.WriteAllBytes(state.IdentityPath, input);
        var identity = state.LoadIdentity();

        // What the session does with a loaded identity: the file is only valid if this works.
        _ = SessionProof.RecoveryVerifier(StateFiles.RecoveryKey(identity), new byte[16], new byte[32], DeviceName.Parse(identity.Name));
        return identity;
    }
}

/// <summary>The device's partnerships (<c>volatile/partnerships.json</c>) loaded by <see cref="DeviceState"/>.</summary>
public sealed class PartnershipsTarget(string folder) : DecoderTarget
{
    public override string Name => "partnerships-json";

    public override IReadOnlyList<Type> Allowed { get; } = [typeof(DeviceStateException)];

    public override IReadOnlyList<byte[]> Seeds { get; } = [StateFiles.Partnerships(folder)];

    public override object? Run(byte[] input)
    {
        var state = new DeviceState(folder);
        File.WriteAllBytes(state.PartnershipsPath, input);
        var file = state.LoadPartnerships();
        foreach (var slot in file.Slots)
        {
            // What the session does with a loaded slot: the file is only valid if this works.
            StateFiles.UseSlot(slot);
        }

        return file;
    }
}
