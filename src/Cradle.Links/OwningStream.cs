namespace Cradle.Links;

/// <summary>
/// Passes everything through to an inner stream and, when closed, also closes what the stream
/// lives on (a serial port under its stream, a serial line under a session's link).
/// </summary>
public sealed class OwningStream(Stream inner, IDisposable owner) : Stream, ILinkLiveness
{
    /// <summary>The inner stream's liveness, when it is a link that knows it (the serial link layer).</summary>
    public TimeSpan? SincePeerProgress => (inner as ILinkLiveness)?.SincePeerProgress;

    /// <summary>The inner stream's, when it is a link that knows it.</summary>
    public TimeSpan? SinceSendProgress => (inner as ILinkLiveness)?.SinceSendProgress;

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

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        if (owner is IAsyncDisposable asyncOwner)
        {
            await asyncOwner.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            owner.Dispose();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner.Dispose();
        }

        base.Dispose(disposing);
    }
}
