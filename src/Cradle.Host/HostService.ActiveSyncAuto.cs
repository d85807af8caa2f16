using System.Net.NetworkInformation;
using Cradle.Host.ActiveSync;

namespace Cradle.Host;

/// <summary>
/// <c>--activesync auto</c>: every interface whose driver is a cradled device's
/// (<see cref="ActiveSyncDrivers.Cradled"/>) is watched from when it appears until it goes, as if
/// it had been named with <c>--activesync IFACE</c>. A device on USB brings its interface with it
/// and takes it away when unplugged, so the interface's name need not be known in advance.
/// </summary>
public sealed partial class HostService
{
    private async Task WatchActiveSyncAutoAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        ActiveSyncHostLog.AutoWatch(_logger, string.Join(" or ", ActiveSyncDrivers.Cradled));
        var named = _options.ActiveSyncInterfaces.Where(n => n != HostOptions.ActiveSyncAuto).ToHashSet(StringComparer.Ordinal);
        var watching = new Dictionary<string, (CancellationTokenSource Stop, Task Watch)>(StringComparer.Ordinal);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var present = new HashSet<string>(StringComparer.Ordinal);
                foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                {
                    // An interface also named with --activesync IFACE has its own watcher already.
                    if (named.Contains(nic.Name) || ActiveSyncDrivers.Match(_options.SysfsRoot, nic.Name, ActiveSyncDrivers.Cradled) is not { } driver)
                    {
                        continue;
                    }

                    present.Add(nic.Name);
                    if (!watching.ContainsKey(nic.Name))
                    {
                        ActiveSyncHostLog.InterfaceFound(_logger, nic.Name, driver);
                        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        watching[nic.Name] = (stop, WatchActiveSyncInterfaceAsync(nic.Name, stop.Token));
                    }
                }

                foreach (var gone in watching.Keys.Where(n => !present.Contains(n)).ToList())
                {
                    ActiveSyncHostLog.InterfaceGone(_logger, gone);
                    await StopWatchAsync(watching[gone]).ConfigureAwait(false);
                    watching.Remove(gone);
                }

                await DelayAsync(UsbPoll, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var watch in watching.Values)
            {
                await StopWatchAsync(watch).ConfigureAwait(false);
            }
        }
    }

    private static async Task StopWatchAsync((CancellationTokenSource Stop, Task Watch) watch)
    {
        await watch.Stop.CancelAsync().ConfigureAwait(false);
        await watch.Watch.ConfigureAwait(false);
        watch.Stop.Dispose();
    }
}
