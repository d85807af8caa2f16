using Microsoft.Win32.SafeHandles;

namespace Cradle.LineRelay.Tests;

/// <summary>
/// A program's end of the line: a pty slave opened as a plain file, which leaves its termios as
/// the relay set it (raw) unless the test changes the speed through <see cref="Handle"/>.
/// </summary>
/// <remarks>
/// A tty read or write blocks in the kernel and cannot be cancelled. Each runs on a thread of its
/// own, so blocked reads in tests running side by side never starve the thread pool the tests'
/// awaits need; a read that overruns <see cref="Patience"/> fails its test instead of hanging it,
/// and ends for good when the relay hangs the port up.
/// </remarks>
internal sealed class PortEnd : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FileStream _stream;

    private PortEnd(FileStream stream) => _stream = stream;

    public SafeFileHandle Handle => _stream.SafeFileHandle;

    public static PortEnd Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0));

    public Task WriteAsync(byte[] data) => OnOwnThread(() => _stream.Write(data));

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    public async Task<byte[]> ReadAsync(int count)
    {
        var buffer = new byte[count];
        await OnOwnThread(() => _stream.ReadExactly(buffer)).WaitAsync(Patience);
        return buffer;
    }

    /// <summary>Reads whatever has arrived, at least one byte.</summary>
    public Task<int> ReadSomeAsync(byte[] buffer) =>
        Task.Factory.StartNew(() => _stream.Read(buffer), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .WaitAsync(Patience);

    public void Dispose() => _stream.Dispose();

    private static Task OnOwnThread(Action io) =>
        Task.Factory.StartNew(io, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
