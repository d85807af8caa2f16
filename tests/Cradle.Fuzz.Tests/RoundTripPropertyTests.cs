using Cradle.Content;
using Cradle.Links.Serial;
using Cradle.Protocol.Messages;
using Cradle.Protocol;
using Cradle.Store;
using CsCheck;
using Google.Protobuf;
using EntryKind = Cradle.Content.EntryKind;

namespace Cradle.Fuzz.Tests;

/// <summary>Valid values, generated at random, come back equal through encode and decode.</summary>
public sealed class RoundTripPropertyTests
{
    private const long Iterations = 500;

    private static readonly Gen<string> Segment = Gen.Char["abcXYZ019-_. é"].Array[1, 12]
        .Select(c => new string(c).Trim())
        .Where(s => s.Length > 0 && s is not "." and not ".." && !s.EndsWith('.'));

    [Fact]
    public void Link_frames_round_trip()
    {
        var frames = Gen.Select(Gen.Int[1, 6], Gen.UShort, Gen.UShort, Gen.UShort, Gen.UInt, Gen.Byte.Array[0, LinkFrame.MaxPayload],
            (kind, session, seq, ack, sack, payload) => new LinkFrame((LinkFrameKind)kind, session, seq, ack, sack, payload));
        frames.Sample(
            frame =>
            {
                var encoded = LinkFrameTarget.Encode(frame);
                Assert.DoesNotContain((byte)0, encoded);
                Assert.True(LinkFrame.TryDecode(encoded, out var back));
                Assert.Equal((frame.Kind, frame.Session, frame.Seq, frame.Ack, frame.Sack), (back.Kind, back.Session, back.Seq, back.Ack, back.Sack));
                Assert.Equal(frame.Payload.ToArray(), back.Payload.ToArray());
            },
            iter: Iterations);
    }

    [Fact]
    public void Snapshot_trees_round_trip()
    {
        var ids = Gen.Byte.Array[32].Select(b => ChunkId.Read(b)).Array[0, 4];
        var entries = Gen.Select(Segment.Array[1, 4], Gen.Bool, Gen.Long[0, long.MaxValue], Gen.Long, Gen.UInt, ids,
            (segments, folder, size, mtime, mode, chunks) => folder
                ? new TreeEntry(string.Join('/', segments), EntryKind.Directory, 0, mtime, mode, [])
                : new TreeEntry(string.Join('/', segments), EntryKind.File, size, mtime, mode, chunks));
        entries.List[0, 20].Sample(
            list =>
            {
                var back = SnapshotTree.Parse(SnapshotTree.Serialize(list));
                Assert.Equal(list.Count, back.Count);
                for (var i = 0; i < list.Count; i++)
                {
                    Assert.Equal((list[i].Path, list[i].Kind, list[i].Size, list[i].MtimeUnixNs, list[i].Mode), (back[i].Path, back[i].Kind, back[i].Size, back[i].MtimeUnixNs, back[i].Mode));
                    Assert.Equal(list[i].Chunks, back[i].Chunks);
                }
            },
            iter: Iterations);
    }

    [Fact]
    public void Envelopes_round_trip_through_frames()
    {
        var envelopes = Gen.OneOf(
            Gen.String.Select(r => new Envelope { Goodbye = new Goodbye { Reason = r } }),
            Gen.ULong.Select(n => new Envelope { Ping = new Ping { Nonce = n } }),
            Gen.Byte.Array[0, 70_000].Select(d => new Envelope { ChunkData = new ChunkData { Id = ByteString.CopyFrom(new byte[32]), RawLength = (uint)d.Length, Data = ByteString.CopyFrom(d) } }),
            Gen.Select(Gen.UInt, Gen.Byte.Array[32], (n, p) => new Envelope { Authenticate = new Authenticate { Number = n, Proof = ByteString.CopyFrom(p) } }));
        envelopes.List[0, 6].Sample(
            list =>
            {
                var received = FramesTarget.ReceiveAll(new ReplayStream(list.SelectMany(FramesTarget.Frame).ToArray()));

                // Pings are answered by the channel, not handed out.
                Assert.Equal(list.Where(e => e.BodyCase != Envelope.BodyOneofCase.Ping), received);
            },
            iter: Iterations / 5);
    }

    [Fact]
    public void Chunks_round_trip_through_compression_and_the_host_check()
    {
        var target = new ChunkDataTarget();
        var contents = Gen.OneOf(Gen.Byte.Array[1, 20_000], Gen.Byte.Array[1, 50].Select(Gen.Int[1, 2000], (b, n) => Enumerable.Repeat(b, n).SelectMany(x => x).ToArray()));
        Gen.Select(contents, Gen.Bool).Sample(
            c => Assert.Equal(c.Item1, (byte[])target.Run(ChunkDataTarget.Chunk(c.Item1, c.Item2))!),
            iter: Iterations / 5,
            threads: 1);
    }
}
