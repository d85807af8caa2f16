using System.Buffers.Binary;
using Cradle.Content;
using Cradle.Device;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Fuzz;

/// <summary>
/// A peer that sends <c>input</c> and then closes: every read completes at once with what is
/// left; what the reader sends back is dropped. Records how far the largest read buffer the
/// reader offered ran ahead of the bytes it had been given: the memory it committed on a claim.
/// </summary>
public sealed class ReplayStream(byte[] input) : Stream
{
    private int _position;

    public bool AtEnd => _position == input.Length;

    /// <summary>The most a read buffer ever exceeded the bytes delivered before that read.</summary>
    public long MostOfferedAhead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        MostOfferedAhead = Math.Max(MostOfferedAhead, buffer.Length - _position);
        var n = Math.Min(buffer.Length, input.Length - _position);
        input.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(byte[] buffer, int offset, int count)
    {
        // The peer ignores what it is told.
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
        // Nothing is buffered.
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Pack files for the corpus, made by the real <see cref="PackWriter"/>.</summary>
public static class PackFiles
{
    /// <summary>A sealed pack of three chunks: zstd-compressed, stored raw, and one byte.</summary>
    public static byte[] Small()
    {
        var folder = Path.Combine(Path.GetTempPath(), "cradle-tests", Guid.NewGuid().ToString("N"));
        try
        {
            using var codec = new ChunkCodec();
            var writer = PackWriter.Create(new FolderPackStorage(folder));
            byte[][] contents = [Enumerable.Range(0, 9000).Select(i => (byte)(i % 13)).ToArray(), "incompressible?"u8.ToArray(), [42]];
            foreach (var raw in contents)
            {
                var (compression, data) = codec.Compress(raw);
                writer.AppendAsync(ChunkId.Of(raw), compression, data.ToArray(), raw.Length, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            writer.SealAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return File.ReadAllBytes(Path.Combine(folder, writer.Name));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The footer offset the tail names, checked against the file's size and the record count.</summary>
    public static long FooterOffset(ReadOnlySpan<byte> pack)
    {
        var tail = pack[^PackFormat.TailLength..];
        if (!tail[12..].SequenceEqual(PackFormat.EndMagic))
        {
            throw new StoreFormatException("pack does not end with the end magic: truncated or damaged");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        var footer = BinaryPrimitives.ReadUInt64LittleEndian(tail[4..]);
        // The footer and tail fit in 2^32 * 49 + 16 bytes, so this sum cannot overflow; the offset can be anything.
        var footerAndTail = ((ulong)count * PackFormat.FooterEntryLength) + PackFormat.TailLength;
        if (footer < PackFormat.HeaderLength || footerAndTail > (ulong)pack.Length || footer != (ulong)pack.Length - footerAndTail)
        {
            throw new StoreFormatException($"pack tail names footer offset {footer} and {count} records, which do not fit a {pack.Length}-byte pack");
        }

        return (long)footer;
    }
}

/// <summary>Device state files for the corpus, written by the real <see cref="DeviceState"/> and <see cref="FilesCacheWriter"/>.</summary>
public static class StateFiles
{
    public static byte[] Identity(string folder)
    {
        var state = NewDevice(folder);
        return File.ReadAllBytes(state.IdentityPath);
    }

    public static byte[] Partnerships(string folder)
    {
        var state = NewDevice(folder);
        state.SavePartnerships(new PartnershipsFile
        {
            Slots =
            [
                new PartnershipSlot
                {
                    HostId = "00112233445566778899aabbccddeeff",
                    HostName = "depot-pc",
                    Address = "192.0.2.7:5679",
                    Number = 0xCAFEF00D,
                    Secret = Convert.ToBase64String(new byte[32]),
                    CertificateSha256 = new string('a', 64),
                    CreatedUnixMs = 1_700_000_000_000,
                    LastBackup = new LastBackup(1_700_000_100_000, 4, 20, 1 << 20, 1 << 19, "network"),
                },
            ],
        });
        return File.ReadAllBytes(state.PartnershipsPath);
    }

    public static byte[] FilesCache(string folder)
    {
        var path = Path.Combine(folder, "seed.cache");
        var entry = new ScanEntry("data/a.txt", "/dev/null", EntryKind.File, 3, 1_700_000_000_000_000_000, 77, 0x1A4);
        using (var cache = new FilesCacheWriter(folder, FilesCacheTarget.Order))
        {
            cache.Add(entry, [ChunkId.Of("a"u8), ChunkId.Of("b"u8)]);
            cache.Add(entry with { Path = "data/b" }, []);
            cache.Save(path);
        }

        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    public static byte[] RecoveryKey(DeviceIdentity identity) => Convert.FromBase64String(identity.RecoveryKey);

    /// <summary>What a session does with a slot before it sends anything: the secret becomes a proof.</summary>
    public static void UseSlot(PartnershipSlot slot)
    {
        var secret = Convert.FromBase64String(slot.Secret);
        _ = SessionProof.Compute(secret, new byte[32], new byte[32], DeviceName.Parse("MX7"));
    }

    private static DeviceState NewDevice(string folder)
    {
        var state = new DeviceState(folder);
        if (!state.IsInitialized)
        {
            var data = Path.Combine(folder, "data");
            Directory.CreateDirectory(data);
            state.Initialize("MX7", [data]);
        }

        return state;
    }
}
