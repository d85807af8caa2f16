using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cradle.ActiveSync.Emulator;

/// <summary>
/// The device side of ActiveSync over RNDIS: waits for the host's UDP trigger (0x7F on its port
/// 5679) or connects at start, opens the DCCM control connection to host:990 (0, then 6, then 4 and
/// its info message), unlocks if it is locked, answers keepalives, and for every "5 4 id" opens a
/// new connection carrying the id and serves RAPI on it. Its files are a folder, its registry a JSON
/// file. Faults make it slow, short, absent or hostile.
/// </summary>
public sealed partial class EmulatedDevice : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private readonly ConcurrentBag<Task> _work = [];
    private int _controlActive;
    private Socket? _triggerSocket;
    private Task? _triggerLoop;
    private volatile bool _vanished;
    private volatile Socket? _control;

    public EmulatedDevice(EmulatorOptions options)
    {
        Options = options;
        Directory.CreateDirectory(options.FilesRoot);
        FileSystem = new EmulatedFileSystem(options.FilesRoot, options.StorageCards);
        Registry = new EmulatedRegistry(options.RegistryFile, options.Name);
    }

    public EmulatorOptions Options { get; }

    public EmulatorFaults Faults => Options.Faults;

    public EmulatorCounters Counters { get; } = new();

    public EmulatedFileSystem FileSystem { get; }

    public EmulatedRegistry Registry { get; }

    /// <summary>Where the device listens for the trigger (port 0 in the options: the one it got).</summary>
    public IPEndPoint? TriggerEndPoint { get; private set; }

    /// <summary>True while a control connection is up.</summary>
    public bool IsConnected => Volatile.Read(ref _controlActive) != 0;

    /// <summary>Starts listening for the trigger; connects at once with <see cref="EmulatorOptions.ConnectOnStart"/>.</summary>
    public void Start()
    {
        var trigger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        trigger.Bind(new IPEndPoint(IPAddress.Parse(Options.TriggerAddress), Options.TriggerPort));
        TriggerEndPoint = (IPEndPoint)trigger.LocalEndPoint!;
        _triggerSocket = trigger;
        _triggerLoop = Task.Run(TriggerLoopAsync);
        if (Options.CarrierInterface is { } iface)
        {
            Track(WatchCarrierAsync(iface));
        }

        if (Options.ConnectOnStart)
        {
            Track(ConnectAsync());
        }
    }

    private async Task WatchCarrierAsync(string iface)
    {
        var wasUp = true;
        while (!_stop.IsCancellationRequested)
        {
            bool up;
            try
            {
                up = (await File.ReadAllTextAsync($"/sys/class/net/{iface}/carrier", _stop.Token)).Trim() == "1";
            }
            catch (IOException)
            {
                up = false; // reading carrier of a link that is down fails with EINVAL
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (wasUp && !up)
            {
                Counters.Count("carrier-lost");
                Vanish();
            }
            else if (!wasUp && up)
            {
                Counters.Count("carrier-back");
                Return();
            }

            wasUp = up;
            try
            {
                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Connects now, as a cradled device does on its own (if not connected already).</summary>
    public Task ConnectAsync() => RunControlAsync();

    /// <summary>The device disappears: every connection is reset, nothing more is answered until <see cref="Return"/>.</summary>
    public void Vanish()
    {
        _vanished = true;
        foreach (var socket in _sockets.Keys)
        {
            Abort(socket);
        }
    }

    /// <summary>After <see cref="Vanish"/>: the device answers triggers again.</summary>
    public void Return() => _vanished = false;

    /// <summary>Ends the control connection politely (the device's side of a cable pull it notices).</summary>
    public void Disconnect()
    {
        foreach (var socket in _sockets.Keys)
        {
            socket.Dispose();
        }
    }

    /// <summary>A cold boot: the newest partnership is lost (the rest of the registry and the files stay).</summary>
    public int? ColdBoot()
    {
        Vanish();
        var lost = Registry.ColdBoot();
        Counters.Count("cold-boots");
        Return();
        return lost;
    }

    private async Task TriggerLoopAsync()
    {
        var buffer = new byte[16];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _triggerSocket!.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (received.ReceivedBytes == 1 && buffer[0] == 0x7F)
            {
                Counters.Count("triggers");
                if (!_vanished && _control is null)
                {
                    Track(RunControlAsync());
                }
            }
            else
            {
                Counters.Note($"odd trigger datagram of {received.ReceivedBytes} bytes");
            }
        }
    }

    private async Task RunControlAsync()
    {
        if (Interlocked.CompareExchange(ref _controlActive, 1, 0) != 0)
        {
            return; // one control connection at a time, as a device has
        }

        Socket? socket = null;
        try
        {
            if (_vanished)
            {
                return;
            }

            socket = await ConnectToHostAsync();
            _control = socket;
            Counters.Count("control-connections");
            await ServeControlAsync(socket);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or InvalidDataException or OperationCanceledException or EndOfStreamException)
        {
            Counters.Note($"control connection ended: {e.Message}");
        }
        finally
        {
            _control = null;
            if (socket is not null)
            {
                // The control connection is the device's session: its RAPI connections go with it.
                foreach (var other in _sockets.Keys)
                {
                    other.Dispose();
                }

                Forget(socket);
            }

            Interlocked.Exchange(ref _controlActive, 0);
        }
    }

    private async Task ServeControlAsync(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        await WriteWordsAsync(stream, 0);
        var answer = await ReadU32Async(stream);
        if (answer != 3)
        {
            throw new InvalidDataException($"the host answered {answer} to the hello, not 3");
        }

        if (Options.SendQuery6)
        {
            await WriteWordsAsync(stream, 6);
            var words = new uint[4];
            for (var i = 0; i < words.Length; i++)
            {
                words[i] = await ReadU32Async(stream);
            }

            Counters.Note($"query6-answer {string.Join(',', words)}");
            if (words is not [7, 8, 4, 5 or 1])
            {
                throw new InvalidDataException($"the host answered 6 with {string.Join(',', words)}");
            }
        }

        var info = InfoMessage();
        var framed = new ReplyWriter().U32(4).U32(Faults.InfoLengthOverride ?? (uint)info.Length).Bytes(info).ToArray();
        await stream.WriteAsync(framed, _stop.Token);

        await UnlockAsync(stream);
        Counters.Count("unlocked-sessions");

        while (true)
        {
            var word = await ReadU32Async(stream);
            switch (word)
            {
                case 1:
                    Counters.Count("pings");
                    if (!Faults.IgnorePings)
                    {
                        await WriteWordsAsync(stream, 2);
                    }

                    break;
                case 5:
                    var four = await ReadU32Async(stream);
                    var id = await ReadU32Async(stream);
                    if (four != 4)
                    {
                        Counters.Note($"session request 5,{four},{id}: the middle word is not 4");
                    }

                    Track(ServeRapiSessionAsync(id));
                    break;
                default:
                    Counters.Count("control-unknown");
                    Counters.Note($"control word {word}");
                    break;
            }
        }
    }

    private async Task UnlockAsync(NetworkStream stream)
    {
        switch (Options.Lock)
        {
            case EmulatedLock.Password:
                while (true)
                {
                    var length = await ReadU16Async(stream);
                    var bytes = new byte[length];
                    await stream.ReadExactlyAsync(bytes, _stop.Token);
                    Counters.Note($"password message: length {length}, bytes {Convert.ToHexString(bytes)}");
                    var key = (byte)(Options.PasswordKey & 0xFF);
                    for (var i = 0; i < bytes.Length; i++)
                    {
                        bytes[i] ^= key;
                    }

                    var text = Encoding.Unicode.GetString(bytes);
                    Counters.Count("password-attempts");
                    if (text.EndsWith('\0'))
                    {
                        Counters.Count("password-with-nul");
                        text = text[..^1];
                    }

                    var right = string.Equals(text, Options.Password, StringComparison.Ordinal);
                    var verdict = new byte[2];
                    BinaryPrimitives.WriteUInt16LittleEndian(verdict, right ? (ushort)1 : (ushort)0);
                    await stream.WriteAsync(verdict, _stop.Token);
                    if (right)
                    {
                        return;
                    }
                }

            case EmulatedLock.UnlockOnDevice:
                var request = await ReadU32Async(stream);
                if (request != 8)
                {
                    throw new InvalidDataException($"a locked WM6 device got {request}, not 8 (show the unlock screen)");
                }

                Counters.Count("unlock-requests");
                if (Options.UnlockAfterMs < 0)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                await Task.Delay(Options.UnlockAfterMs, _stop.Token);
                await WriteWordsAsync(stream, Options.UnlockAnswer);
                if (Options.UnlockAnswer != 0)
                {
                    throw new InvalidDataException("the person did not unlock the device");
                }

                var first = await ReadU32Async(stream);
                var second = await ReadU32Async(stream);
                Counters.Note($"unlock-ack {first},{second}");
                if (first != 0 || second != 0xC)
                {
                    throw new InvalidDataException($"after the unlock the host sent {first},{second}, not 0,12");
                }

                return;
            default:
                return;
        }
    }

    /// <summary>The info message body, laid out as SynCE's dccm reads it.</summary>
    public byte[] InfoMessage()
    {
        var name = Registry.DeviceName;
        var w = new ReplyWriter()
            .Bytes(Guid.Parse(Options.DeviceGuid).ToByteArray())
            .U32(Options.OsMajor).U32(Options.OsMinor)
            .U32(Faults.InfoNameCharsOverride ?? (uint)name.Length).Utf16(name, nul: true)
            .U32(Options.Version).U32(Options.CpuType).U32(0).U32(Registry.CurrentPartnerId).U32(0);
        var platforms = Encoding.ASCII.GetBytes(string.Concat(Options.Platforms.Select(p => p + "\0")) + "\0");
        w.U32((uint)platforms.Length).Bytes(platforms);
        var model = Encoding.ASCII.GetBytes(Options.Model);
        w.U32((uint)model.Length).Bytes(model).Bytes([0]);
        w.U32(Faults.InfoComponentCountOverride ?? 2).U64(0x0005_0002_0000_1000).U64(0x0001_0000_0000_0001);
        var key = Options.Lock switch
        {
            EmulatedLock.Password => Options.PasswordKey,
            EmulatedLock.UnlockOnDevice => 0xFFFFFFFF,
            _ => 0u,
        };
        return w.U32(key).ToArray();
    }

    private async Task<Socket> ConnectToHostAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(Options.HostAddress), Options.HostPort), _stop.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _sockets[socket] = 0;
        return socket;
    }

    private async Task WriteWordsAsync(Stream stream, params uint[] words)
    {
        var w = new ReplyWriter();
        foreach (var word in words)
        {
            w.U32(word);
        }

        await stream.WriteAsync(w.ToArray(), _stop.Token);
    }

    private async Task<uint> ReadU32Async(Stream stream)
    {
        var buffer = new byte[4];
        await stream.ReadExactlyAsync(buffer, _stop.Token);
        return BinaryPrimitives.ReadUInt32LittleEndian(buffer);
    }

    private async Task<ushort> ReadU16Async(Stream stream)
    {
        var buffer = new byte[2];
        await stream.ReadExactlyAsync(buffer, _stop.Token);
        return BinaryPrimitives.ReadUInt16LittleEndian(buffer);
    }

    private static void Abort(Socket socket)
    {
        try
        {
            // Linger 0: the host sees a reset, as when the device's network stack is gone.
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        catch (SocketException)
        {
            // Already closed by the other side.
        }

        socket.Dispose();
    }

    private void Forget(Socket socket)
    {
        _sockets.TryRemove(socket, out _);
        socket.Dispose();
    }

    private void Track(Task task) => _work.Add(task);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _triggerSocket?.Dispose();
        Vanish();
        try
        {
            await Task.WhenAll(_work.Append(_triggerLoop ?? Task.CompletedTask)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException or TimeoutException or InvalidDataException)
        {
            Counters.Note($"stopping: {e.Message}");
        }

        _stop.Dispose();
    }
}
