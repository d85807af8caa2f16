using System.Collections.Concurrent;

namespace Cradle.ActiveSync.Emulator;

/// <summary>What the emulated device saw, for tests to assert on.</summary>
public sealed class EmulatorCounters
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _events = new();
    private long _open;

    /// <summary>How often a RAPI call (by name) or an event was counted.</summary>
    public long this[string name] => _counts.TryGetValue(name, out var n) ? n : 0;

    public long ReadFileCalls => this["CeReadFile"];

    public long FileBytesSent => this["file-bytes-sent"];

    public long FileBytesReceived => this["file-bytes-received"];

    public long ControlConnections => this["control-connections"];

    public long RapiSessions => this["rapi-sessions"];

    /// <summary>Things worth a look in a failing test: what the host sent that the device did not expect.</summary>
    public IReadOnlyCollection<string> Events => _events;

    public void Count(string name, long by = 1) => _counts.AddOrUpdate(name, by, (_, n) => n + by);

    /// <summary>Keeps the largest value seen under <paramref name="name"/>.</summary>
    public void Max(string name, long value) => _counts.AddOrUpdate(name, value, (_, n) => Math.Max(n, value));

    /// <summary>Files open on the device across its RAPI sessions, after this open (+1) or close (-1).</summary>
    public long Open(int change) => Interlocked.Add(ref _open, change);

    public void Note(string text)
    {
        _events.Enqueue(text);
        while (_events.Count > 200 && _events.TryDequeue(out _))
        {
        }
    }

    public IReadOnlyDictionary<string, long> Snapshot() => new SortedDictionary<string, long>(_counts, StringComparer.Ordinal);

    public void Reset() => _counts.Clear();
}
