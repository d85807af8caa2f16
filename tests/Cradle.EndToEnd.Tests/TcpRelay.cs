using System.Net;
using System.Net.Sockets;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A network cable the test can cut: a TCP relay on 127.0.0.1 in front of a host. Devices
/// connect to <see cref="Address"/>; <see cref="Cut"/> resets every connection through it
/// (both ends see the link die mid-stream) and refuses new ones until <see cref="Mend"/>.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    private readonly TcpListener _listener;
    private volatile IPEndPoint _target;
    private readonly List<(Socket Device, Socket Host)> _pairs = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _deviceToHost;
    private volatile bool _cut;

    private TcpRelay(IPEndPoint target, int receiveBufferBytes)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        if (receiveBufferBytes > 0)
        {
            // Set before listening, the connections accepted inherit it, and a set size turns
            // off the kernel's growth of the buffer (up to megabytes on loopback).
            _listener.Server.ReceiveBufferSize = receiveBufferBytes;
        }

        _listener.Start();
        Address = _listener.LocalEndpoint.ToString()!;
        _accepting = AcceptAsync();
    }

    /// <summary>Where devices connect.</summary>
    public string Address { get; }

    /// <summary>A slow cable: bytes per second from devices to the host (0: as fast as the machine goes).</summary>
    public long DeviceToHostRate { get; set; }

    /// <summary>Bytes relayed from devices to the host so far.</summary>
    public long DeviceToHost => Interlocked.Read(ref _deviceToHost);

    /// <summary>
    /// A relay in front of <paramref name="hostAddress"/>. <paramref name="receiveBufferBytes"/>:
    /// the relay's receive buffer for devices' bytes (0: the kernel's, which grows to megabytes),
    /// small to make a slow cable push back on the device soon, as a real slow link does.
    /// </summary>
    public static TcpRelay Start(string hostAddress, int receiveBufferBytes = 0) => new(IPEndPoint.Parse(hostAddress), receiveBufferBytes);

    /// <summary>Resets every connection now and refuses new ones (each is reset at once).</summary>
    public void Cut()
    {
        _cut = true;
        lock (_pairs)
        {
            foreach (var (device, host) in _pairs)
            {
                Reset(device);
                Reset(host);
            }

            _pairs.Clear();
        }
    }

    /// <summary>New connections go to another host from now on: the same address, another machine behind it (an impostor, a replacement).</summary>
    public void Retarget(string hostAddress) => _target = IPEndPoint.Parse(hostAddress);

    /// <summary>The cable is whole again: new connections go through.</summary>
    public void Mend() => _cut = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket device;
            try
            {
                device = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_cut)
            {
                Reset(device);
                continue;
            }

            var host = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await host.ConnectAsync(_target, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                Reset(device);
                host.Dispose();
                continue;
            }

            lock (_pairs)
            {
                _pairs.Add((device, host));
            }

            _ = PumpAsync(device, host, counted: true);
            _ = PumpAsync(host, device, counted: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool counted)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                if (counted)
                {
                    Interlocked.Add(ref _deviceToHost, read);
                    if (DeviceToHostRate > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)read / DeviceToHostRate), _stop.Token);
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Cut, or one side went away: the other side is reset too.
            Reset(from);
            Reset(to);
        }
    }

    /// <summary>Closes with RST (linger 0): the peer sees the connection reset, not a clean end.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
            // Reset already.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        _accepting.GetAwaiter().GetResult();
        _stop.Dispose();
    }
}
