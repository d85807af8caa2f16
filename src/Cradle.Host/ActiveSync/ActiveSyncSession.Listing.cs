using System.Runtime.ExceptionServices;
using Cradle.ActiveSync;
using Cradle.ActiveSync.Rapi;
using Cradle.ActiveSync.Walk;
using Cradle.Protocol;
using Cradle.Store;

namespace Cradle.Host.ActiveSync;

/// <summary>The part of a backup before any file is read: the RAPI sessions, the folders, their listing.</summary>
internal sealed partial class ActiveSyncSession
{
    /// <summary>
    /// What a backup reads from before it reads a file: the RAPI sessions, the folders and their
    /// listing, with the time the backup started. <see cref="More"/> are the sessions beyond the
    /// first, closed by whoever takes this.
    /// </summary>
    private sealed record DeviceListing(List<RapiClient> More, RapiSessionPool Pool, DeviceFolders Folders, List<DeviceFileEntry> Entries, long Started);

    /// <summary>
    /// Opens the extra RAPI sessions, finds the folders and lists them. It reads no file and
    /// writes nothing, so a connection runs it while the partnership is being decided on the
    /// same first session (each is a few round trips of the device's reply time, which a first
    /// backup of a fast link counts): the files are read only once the device is partnered.
    /// </summary>
    private async Task<DeviceListing> ListDeviceAsync(RapiClient rapi, CancellationToken cancellationToken)
    {
        var started = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var opening = OpenMoreSessionsAsync(rapi, cancellationToken);
        DeviceFolders folders;
        try
        {
            folders = await BackupFolderDiscovery.DiscoverAsync(rapi, options.ActiveSyncFolders, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await DropSessionsAsync(opening).ConfigureAwait(false);
            throw;
        }

        var more = await opening.ConfigureAwait(false);
        try
        {
            var pool = new RapiSessionPool([rapi, .. more], UsesPerSession);
            var walker = new DeviceWalker(rapi, options.ActiveSync);
            var listed = new List<DeviceFileEntry>();
            // Every folder is listed at once (their listings share the pool), each ended before a failure is passed on; laid out one after the other.
            var listings = folders.Folders.Select(folder => walker.ListAsync(pool, folder, cancellationToken)).ToList();
            await Task.WhenAll(listings).ConfigureAwait(false);
            foreach (var listing in listings)
            {
                listed.AddRange(await listing.ConfigureAwait(false));
                if (listed.Count > SnapshotTree.MaxEntries)
                {
                    throw new ActiveSyncProtocolException($"{_device} lists more than {SnapshotTree.MaxEntries} files and folders, more than one snapshot holds");
                }
            }

            return new DeviceListing(more, pool, folders, listed, started);
        }
        catch
        {
            await CloseAsync(more).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for a listing that is no longer wanted (the device was refused, or the session failed) and closes its sessions; its failure, if any, is not the one reported.</summary>
    private static async Task DropListingAsync(Task<DeviceListing> listing)
    {
        try
        {
            await CloseAsync((await listing.ConfigureAwait(false)).More).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CradleException or OperationCanceledException)
        {
            // The partnership's outcome is what the session reports.
        }
    }

    private static async Task DropSessionsAsync(Task<List<RapiClient>> opening)
    {
        try
        {
            await CloseAsync(await opening.ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CradleException or OperationCanceledException)
        {
            // The discovery's failure is the one reported.
        }
    }

    private static async Task CloseAsync(List<RapiClient> sessions)
    {
        foreach (var session in sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The RAPI sessions beyond the first (<see cref="ActiveSyncOptions.RapiSessions"/>), asked
    /// for together (one round trip, not one each): a device that does not open one in time is
    /// served with those it opened.
    /// </summary>
    private async Task<List<RapiClient>> OpenMoreSessionsAsync(RapiClient first, CancellationToken cancellationToken)
    {
        var opening = Enumerable.Range(1, options.ActiveSync.RapiSessions - 1).Select(_ => channel.OpenRapiSessionAsync(cancellationToken).AsTask()).ToList();
        var more = new List<RapiClient>();
        Exception? failure = null;
        foreach (var task in opening)
        {
            try
            {
                more.Add(await task.ConfigureAwait(false));
            }
            catch (Exception e) when (failure is null)
            {
                // Every request is awaited before one failure is passed on, so that no opened session is left behind.
                failure = e;
            }
            catch (Exception e) when (e is CradleException or OperationCanceledException)
            {
                // A later failure of the same kind: the first one is reported.
            }
        }

        if (failure is LinkClosedException && !first.IsBroken)
        {
            ActiveSyncHostLog.FewerSessions(logger, _device.Value, more.Count + 1, options.ActiveSync.RapiSessions, failure.Message);
        }
        else if (failure is not null)
        {
            await CloseAsync(more).ConfigureAwait(false);
            ExceptionDispatchInfo.Throw(failure);
        }

        return more;
    }
}
