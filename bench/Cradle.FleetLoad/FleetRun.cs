using System.Diagnostics;
using System.Globalization;
using Cradle.Device;
using Cradle.Links;
using Cradle.Protocol;

namespace Cradle.FleetLoad;

/// <summary>How a fleet load run is sized.</summary>
public sealed record FleetOptions
{
    /// <summary>The hosts' addresses, like the several addresses of one name: a device tries the next when one fails.</summary>
    public required IReadOnlyList<LinkAddress> Hosts { get; init; }

    public required int Devices { get; init; }

    /// <summary>Device sessions running at once.</summary>
    public required int Concurrency { get; init; }

    /// <summary>Backups per device: the first makes the partnership, each later one backs up a new file.</summary>
    public int Rounds { get; init; } = 2;

    /// <summary>KiB of each device's own data, and of each round's new file.</summary>
    public int KiB { get; init; } = 64;

    /// <summary>Where the devices' state and data folders go.</summary>
    public required string Folder { get; init; }

    /// <summary>The devices' names: this, a dash and a number (P1: at most 15 characters in all).</summary>
    public string NamePrefix { get; init; } = "FL";

    /// <summary>Tries of one backup (over all hosts) before the device gives up.</summary>
    public int Attempts { get; init; } = 12;
}

/// <summary>One simulated device at the end of the run.</summary>
public sealed record DeviceOutcome(string Name, string DataFolder, IReadOnlyList<long> Snapshots, int Failovers, string? Error);

/// <summary>What the run did.</summary>
public sealed record FleetReport(IReadOnlyList<DeviceOutcome> Devices, TimeSpan Elapsed, long BytesRead, long WireBytesSent, IReadOnlyDictionary<string, int> FailoverReasons)
{
    public int Backups => Devices.Sum(d => d.Snapshots.Count);

    public int Failovers => Devices.Sum(d => d.Failovers);

    public IEnumerable<DeviceOutcome> Failed => Devices.Where(d => d.Error is not null);
}

/// <summary>
/// Many lightweight devices in one process, each a real <see cref="DeviceAgent"/> with its own
/// state and data folder, backing up through several hosts: each backup starts at the next host
/// round-robin and, when that host refuses the connection or the link fails, tries the next
/// (a client behind a name with several addresses). Refusals by a partnership rule end the device.
/// </summary>
public sealed class FleetRun(FleetOptions options)
{
    private static readonly DeviceOptions DeviceOptions = new() { ConnectTimeout = TimeSpan.FromSeconds(10), AcceptNewHost = DeviceOptions.AnyHost };
    private int _next;
    private int _committed;
    private long _bytesRead;
    private long _wireBytes;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _failoverReasons = new();

    /// <summary>Backups committed so far (any device, any round).</summary>
    public int Committed => Volatile.Read(ref _committed);

    /// <summary>Called after each committed backup with the count so far (from the device's task).</summary>
    public Action<int>? OnCommitted { get; init; }

    /// <summary>Writes every device's state and data: its own file and a file all devices share (deduplicated).</summary>
    public void Prepare()
    {
        var shared = Seeded(0, options.KiB * 1024);
        Parallel.For(0, options.Devices, i =>
        {
            var (state, data) = Folders(i);
            Directory.CreateDirectory(data);
            File.WriteAllBytes(Path.Combine(data, "own.bin"), Seeded(Seed(i, 0), options.KiB * 1024));
            File.WriteAllBytes(Path.Combine(data, "manual.bin"), shared);
            new DeviceState(state).Initialize(Name(i), [data]);
        });
    }

    public async Task<FleetReport> RunAsync(CancellationToken cancellationToken)
    {
        var outcomes = new DeviceOutcome[options.Devices];
        var clock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, options.Devices, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken }, async (i, token) =>
            outcomes[i] = await RunDeviceAsync(i, token).ConfigureAwait(false)).ConfigureAwait(false);
        return new FleetReport(outcomes, clock.Elapsed, Interlocked.Read(ref _bytesRead), Interlocked.Read(ref _wireBytes), _failoverReasons);
    }

    public string Name(int device) => string.Create(CultureInfo.InvariantCulture, $"{options.NamePrefix}-{device:0000}");

    private async Task<DeviceOutcome> RunDeviceAsync(int device, CancellationToken cancellationToken)
    {
        var (stateFolder, data) = Folders(device);
        var state = new DeviceState(stateFolder);
        var snapshots = new List<long>();
        var failovers = 0;
        for (var round = 0; round < options.Rounds; round++)
        {
            if (round > 0)
            {
                File.WriteAllBytes(Path.Combine(data, $"round-{round}.bin"), Seeded(Seed(device, round), options.KiB * 1024));
            }

            var start = Interlocked.Increment(ref _next);
            Exception? last = null;
            for (var attempt = 0; attempt < options.Attempts; attempt++)
            {
                var host = options.Hosts[(int)((uint)(start + attempt) % (uint)options.Hosts.Count)];
                try
                {
                    var result = await new DeviceAgent(state, new NetworkRoute(host), DeviceOptions, Quiet.Instance).RunOnceAsync(cancellationToken).ConfigureAwait(false);
                    snapshots.Add(result.SnapshotId);
                    Interlocked.Add(ref _bytesRead, result.BytesRead);
                    Interlocked.Add(ref _wireBytes, result.WireBytesSent);
                    OnCommitted?.Invoke(Interlocked.Increment(ref _committed));
                    last = null;
                    break;
                }
                catch (SessionRefusedException e)
                {
                    return new DeviceOutcome(Name(device), data, snapshots, failovers, $"refused by {host}: {e.Message}");
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // The host is gone or the link failed: the next address, after a breath once all were tried.
                    last = e;
                    failovers++;
                    _failoverReasons.AddOrUpdate($"{e.GetType().Name}: {e.Message}", 1, (_, n) => n + 1);
                    if ((attempt + 1) % options.Hosts.Count == 0)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            if (last is not null)
            {
                return new DeviceOutcome(Name(device), data, snapshots, failovers, $"round {round}: {last.GetType().Name}: {last.Message}");
            }
        }

        return new DeviceOutcome(Name(device), data, snapshots, failovers, null);
    }

    private (string State, string Data) Folders(int device)
    {
        var root = Path.Combine(options.Folder, Name(device));
        return (Path.Combine(root, "state"), Path.Combine(root, "data"));
    }

    private static ulong Seed(int device, int round) => checked(((ulong)device + 1) * 1000 + (ulong)round);

    /// <summary>Incompressible bytes from a seed (xorshift), the same for the same seed.</summary>
    private static byte[] Seeded(ulong seed, int length)
    {
        var bytes = new byte[length];
        var x = unchecked((seed * 0x9E3779B97F4A7C15UL) + 1);
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; i < length; i += 8)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            BitConverter.TryWriteBytes(word, x);
            word[..Math.Min(8, length - i)].CopyTo(bytes.AsSpan(i));
        }

        return bytes;
    }

    private sealed class Quiet : ISessionObserver
    {
        public static readonly Quiet Instance = new();
    }
}
