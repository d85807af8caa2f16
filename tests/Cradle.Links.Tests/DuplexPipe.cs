using System.IO.Pipelines;

namespace Cradle.Links.Tests;

/// <summary>
/// An in-memory link: two pipes, one per direction. Each end is a <see cref="Stream"/> that
/// reads what the other end writes. Tests may also reach the raw pipes to write bytes that a
/// well-behaved peer never would, or to drop the link.
/// </summary>
internal sealed class DuplexPipe
{
    private static readonly PipeOptions Unbounded = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0);

    public DuplexPipe()
    {
        LeftToRight = new Pipe(Unbounded);
        RightToLeft = new Pipe(Unbounded);
        Left = new DuplexStream(RightToLeft.Reader.AsStream(), LeftToRight.Writer.AsStream());
        Right = new DuplexStream(LeftToRight.Reader.AsStream(), RightToLeft.Writer.AsStream());
    }

    public Pipe LeftToRight { get; }

    public Pipe RightToLeft { get; }

    public Stream Left { get; }

    public Stream Right { get; }
}

internal sealed class DuplexStream(Stream input, Stream output) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush() => output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => input.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => output.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => output.WriteAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Dispose();
            output.Dispose();
        }

        base.Dispose(disposing);
    }
}
