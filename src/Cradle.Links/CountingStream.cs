namespace Cradle.Links;

/// <summary>
/// Passes bytes through to an inner stream and counts them: the figures a session reports
/// as "bytes on the link" are counted here, below TLS, so they include every header and record.
/// The first bytes the peer sent are kept: when TLS fails, they tell a peer that is no Cradle
/// host at all (a web server answering in plain text) from a link that broke.
/// It also tells when a write last went through (<see cref="ILinkLiveness.SinceSendProgress"/>):
/// a TCP write completes when the kernel takes the bytes, and waits once a peer that stopped
/// reading has let every buffer fill.
/// </summary>
public sealed class CountingStream(Stream inner) : Stream, ILinkLiveness
{
    /// <summary>How many of the peer's first bytes are kept.</summary>
    public const int FirstBytesKept = 64;

    private readonly byte[] _first = new byte[FirstBytesKept];
    private int _firstLength;
    private long _read;
    private long _written;
    private long _lastWrite = TimeProvider.System.GetTimestamp();

    /// <summary>The inner link's, when it knows (the serial link layer); a byte stream cannot tell.</summary>
    public TimeSpan? SincePeerProgress => (inner as ILinkLiveness)?.SincePeerProgress;

    /// <summary>The inner link's when it knows, else the time since a write last completed here.</summary>
    public TimeSpan? SinceSendProgress => (inner as ILinkLiveness)?.SinceSendProgress ?? TimeProvider.System.GetElapsedTime(Interlocked.Read(ref _lastWrite));

    public long BytesRead => Interlocked.Read(ref _read);

    /// <summary>The first bytes read from the peer (up to <see cref="FirstBytesKept"/>).</summary>
    public ReadOnlySpan<byte> FirstBytes => _first.AsSpan(0, Volatile.Read(ref _firstLength));

    public long BytesWritten => Interlocked.Read(ref _written);

    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        Keep(buffer.AsSpan(offset, n));
        Interlocked.Add(ref _read, n);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Keep(buffer.Span[..n]);
        Interlocked.Add(ref _read, n);
        return n;
    }

    private void Keep(ReadOnlySpan<byte> read)
    {
        var room = FirstBytesKept - _firstLength;
        if (room > 0 && read.Length > 0)
        {
            var take = Math.Min(room, read.Length);
            read[..take].CopyTo(_first.AsSpan(_firstLength));
            Volatile.Write(ref _firstLength, _firstLength + take);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Interlocked.Add(ref _written, count);
        Interlocked.Exchange(ref _lastWrite, TimeProvider.System.GetTimestamp());
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _written, buffer.Length);
        Interlocked.Exchange(ref _lastWrite, TimeProvider.System.GetTimestamp());
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
