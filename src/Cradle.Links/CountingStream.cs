namespace Cradle.Links;

/// <summary>
/// Passes bytes through to an inner stream and counts them: the figures a session reports
/// as "bytes on the link" are counted here, below TLS, so they include every header and record.
/// It also tells when a write last went through (<see cref="ILinkLiveness.SinceSendProgress"/>):
/// a TCP write completes when the kernel takes the bytes, and waits once a peer that stopped
/// reading has let every buffer fill.
/// </summary>
public sealed class CountingStream(Stream inner) : Stream, ILinkLiveness
{
    private long _read;
    private long _written;
    private long _lastWrite = TimeProvider.System.GetTimestamp();

    /// <summary>The inner link's, when it knows (the serial link layer); a byte stream cannot tell.</summary>
    public TimeSpan? SincePeerProgress => (inner as ILinkLiveness)?.SincePeerProgress;

    /// <summary>The inner link's when it knows, else the time since a write last completed here.</summary>
    public TimeSpan? SinceSendProgress => (inner as ILinkLiveness)?.SinceSendProgress ?? TimeProvider.System.GetElapsedTime(Interlocked.Read(ref _lastWrite));

    public long BytesRead => Interlocked.Read(ref _read);

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
        Interlocked.Add(ref _read, n);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _read, n);
        return n;
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
