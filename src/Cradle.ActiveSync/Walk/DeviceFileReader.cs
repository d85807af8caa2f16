using System.Buffers;
using Cradle.ActiveSync.Rapi;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Walk;

/// <summary>
/// A file on the device read as a stream, with several CeReadFile requests in flight on its RAPI
/// session (<see cref="ActiveSyncOptions.MaxRequestsInFlight"/> blocks of
/// <see cref="ActiveSyncOptions.ReadBlockSize"/>) so that a slow link stays full. Reads on one
/// handle run in order, so the replies are the file's bytes in order even when the device answers
/// a request with fewer bytes than asked (a short read moves the file pointer only that far). A
/// reply of 0 bytes is the end of the file. Dispose it with <c>await using</c>: that closes the
/// handle on the device.
/// </summary>
public sealed class DeviceFileReader : Stream
{
    private readonly RapiClient _rapi;
    private readonly CeFileHandle _handle;
    private readonly int _blockSize;
    private readonly int _window;
    private readonly long _expectedSize;
    private readonly Queue<(byte[] Buffer, int Asked, Task<int> Reply)> _inFlight = new();
    private byte[]? _current;
    private int _currentOffset;
    private int _currentCount;
    private long _position;
    private long _unconfirmedEnd;
    private bool _endSeen;
    private bool _closed;

    private DeviceFileReader(RapiClient rapi, CeFileHandle handle, string devicePath, long expectedSize, ActiveSyncOptions options)
    {
        _rapi = rapi;
        _handle = handle;
        DevicePath = devicePath;
        _expectedSize = Math.Max(0, expectedSize);
        _blockSize = options.ReadBlockSize;
        _window = options.MaxRequestsInFlight;
    }

    public string DevicePath { get; }

    /// <summary>CeReadFile requests sent so far.</summary>
    public int ReadRequests { get; private set; }

    /// <summary>Opens <paramref name="devicePath"/> for reading. <paramref name="expectedSize"/> (from the listing) bounds how far ahead it asks.</summary>
    public static async ValueTask<DeviceFileReader> OpenAsync(RapiClient rapi, string devicePath, long expectedSize, ActiveSyncOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rapi);
        options = (options ?? new ActiveSyncOptions()).Validate();
        var handle = await rapi.OpenReadAsync(devicePath, cancellationToken).ConfigureAwait(false);
        return new DeviceFileReader(rapi, handle, devicePath, expectedSize, options);
    }

    public override bool CanRead => !_closed;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (_currentCount == 0)
        {
            if (_endSeen && _inFlight.Count == 0)
            {
                return 0;
            }

            await FillWindowAsync(cancellationToken).ConfigureAwait(false);
            if (_inFlight.Count == 0)
            {
                return 0;
            }

            var (block, asked, reply) = _inFlight.Dequeue();
            int got;
            try
            {
                got = await reply.ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(block);
                throw;
            }

            // The device's file pointer moved by what it sent, not by what was asked: the requests
            // already in flight continue from there, so only the estimate of the end moves back.
            _unconfirmedEnd -= asked - got;
            if (got == 0)
            {
                _endSeen = true;
                ArrayPool<byte>.Shared.Return(block);
                continue;
            }

            if (_endSeen)
            {
                ArrayPool<byte>.Shared.Return(block);
                throw new ActiveSyncProtocolException($"the device sent more of \"{DeviceText.Printable(DevicePath)}\" after it had said the file ended");
            }

            if (_current is not null)
            {
                ArrayPool<byte>.Shared.Return(_current);
            }

            (_current, _currentOffset, _currentCount) = (block, 0, got);
        }

        var n = Math.Min(buffer.Length, _currentCount);
        _current.AsMemory(_currentOffset, n).CopyTo(buffer);
        _currentOffset += n;
        _currentCount -= n;
        _position += n;
        return n;
    }

    private async ValueTask FillWindowAsync(CancellationToken cancellationToken)
    {
        // Ask ahead while the requests in flight would not yet reach one block past the size the
        // listing gave (that block finds the end); once the end is seen, ask no more.
        while (!_endSeen && _inFlight.Count < _window && (_inFlight.Count == 0 || _unconfirmedEnd < _expectedSize + _blockSize))
        {
            var block = ArrayPool<byte>.Shared.Rent(_blockSize);
            Task<int> reply;
            try
            {
                reply = await _rapi.SendReadFileAsync(_handle, block.AsMemory(0, _blockSize), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(block);
                throw;
            }

            ReadRequests++;
            _unconfirmedEnd += _blockSize;
            _inFlight.Enqueue((block, _blockSize, reply));
        }
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("read a device file with ReadAsync: RAPI calls are asynchronous");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        var broken = false;
        while (_inFlight.TryDequeue(out var pending))
        {
            try
            {
                await pending.Reply.ConfigureAwait(false);
            }
            catch (CradleException)
            {
                broken = true; // the session is gone or the read failed; the handle goes with it
            }
            catch (OperationCanceledException)
            {
                broken = true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(pending.Buffer);
            }
        }

        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current);
            _current = null;
        }

        if (!broken && !_rapi.IsBroken)
        {
            // Not waited for: the next call on this session finds the handle closed all the same.
            await _rapi.SendCloseHandleAsync(_handle).ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        // A synchronous dispose cannot reach the device; the handle closes with the RAPI session.
        _closed = true;
        base.Dispose(disposing);
    }
}
