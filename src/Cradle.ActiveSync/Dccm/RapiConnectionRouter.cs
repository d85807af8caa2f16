using System.Collections.Concurrent;
using System.Net;

namespace Cradle.ActiveSync.Dccm;

/// <summary>
/// Matches the connections a device opens for RAPI (first word: the request id) with the requests
/// the host made on a control channel. Ids are never 0, because 0 is the first word of a new
/// control connection: that is how the listener tells the two apart.
/// </summary>
internal sealed class RapiConnectionRouter
{
    private readonly ConcurrentDictionary<uint, Waiting> _waiting = new();
    private uint _next;

    public (uint Id, Task<Stream> Connection) Register(IPAddress? device)
    {
        uint id;
        do
        {
            id = Interlocked.Increment(ref _next);
        }
        while (id == 0 || _waiting.ContainsKey(id));

        var waiting = new Waiting(device, new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously));
        _waiting[id] = waiting;
        return (id, waiting.Connection.Task);
    }

    /// <summary>Hands a connection to the request with this id, if one waits for it from that address.</summary>
    public bool TryDeliver(uint id, IPAddress? from, Stream connection)
    {
        if (!_waiting.TryGetValue(id, out var waiting))
        {
            return false;
        }

        // A RAPI connection comes from the device whose control channel asked for it; on a USB link
        // nothing else can reach the address, but the check costs nothing where something can.
        if (waiting.Device is not null && from is not null && !Same(waiting.Device, from))
        {
            return false;
        }

        return _waiting.TryRemove(new KeyValuePair<uint, Waiting>(id, waiting)) && waiting.Connection.TrySetResult(connection);
    }

    public void Forget(uint id) => _waiting.TryRemove(id, out _);

    private static bool Same(IPAddress a, IPAddress b) =>
        (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);

    private sealed record Waiting(IPAddress? Device, TaskCompletionSource<Stream> Connection);
}
