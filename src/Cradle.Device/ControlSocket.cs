using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cradle.Device;

/// <summary>The answer of a running device agent on its control socket.</summary>
public sealed record ControlReply(bool Ok, string Message, DeviceStatus? Status);

/// <summary>
/// The local control socket of a running <c>cradle device connect</c>: a Unix domain socket in
/// the state folder (or, when that path is too long for a socket address, in the temp folder
/// under a name derived from it). One line in ("status" or "disconnect"), one JSON line out.
/// </summary>
public sealed class ControlSocket : IAsyncDisposable
{
    private const int MaxSocketPath = 100;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _path;

    private ControlSocket(Socket listener, string path, Func<DeviceStatus> status, Action disconnect)
    {
        _listener = listener;
        _path = path;
        _loop = ServeAsync(status, disconnect, _stop.Token);
    }

    public static string PathFor(DeviceState state)
    {
        var inFolder = Path.Combine(state.Folder, "control.sock");
        if (Encoding.UTF8.GetByteCount(inFolder) <= MaxSocketPath)
        {
            return inFolder;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state.Folder)))[..16];
        return Path.Combine(Path.GetTempPath(), $"cradle-{hash}.sock");
    }

    /// <summary>Listens; fails when another agent is already serving this state folder.</summary>
    public static async Task<ControlSocket> ListenAsync(DeviceState state, Func<DeviceStatus> status, Action disconnect, CancellationToken cancellationToken)
    {
        var path = PathFor(state);
        if (File.Exists(path))
        {
            if (await TrySendAsync(state, "status", cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new DeviceStateException($"another '{DeviceCommandLine.Of("connect")}' is already running for {state.Folder}; disconnect it first ({DeviceCommandLine.Of("disconnect")})");
            }

            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(8);
        return new ControlSocket(listener, path, status, disconnect);
    }

    private async Task ServeAsync(Func<DeviceStatus> status, Action disconnect, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            using (client)
            await using (var stream = new NetworkStream(client, ownsSocket: false))
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    var command = await ReadLineAsync(stream, timeout.Token).ConfigureAwait(false);
                    var reply = command switch
                    {
                        "status" => new ControlReply(true, "status", status()),
                        "disconnect" => new ControlReply(true, "disconnecting", status()),
                        _ => new ControlReply(false, $"unknown command '{command}'", null),
                    };
                    await stream.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(reply, ControlJson.Default.ControlReply), timeout.Token).ConfigureAwait(false);
                    await stream.WriteAsync("\n"u8.ToArray(), timeout.Token).ConfigureAwait(false);
                    if (command == "disconnect")
                    {
                        disconnect();
                    }
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
                {
                    // A client that hangs up or stalls loses its answer; the agent carries on.
                }
            }
        }
    }

    /// <summary>Sends a command to the agent of this state folder; null when no agent is running.</summary>
    public static async Task<ControlReply?> TrySendAsync(DeviceState state, string command, CancellationToken cancellationToken)
    {
        var path = PathFor(state);
        if (!File.Exists(path))
        {
            return null;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return null;
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\n"), cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var line = await ReadLineAsync(stream, timeout.Token).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(line, ControlJson.Default.ControlReply);
        }
        catch (JsonException e)
        {
            throw new DeviceStateException($"the device agent answered something unreadable: {e.Message}", e);
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 1 << 20)
        {
            var n = await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false);
            if (n == 0 || one[0] == (byte)'\n')
            {
                break;
            }

            buffer.Add(one[0]);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()).Trim();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _loop.ConfigureAwait(false);
        File.Delete(_path);
        _stop.Dispose();
    }
}
