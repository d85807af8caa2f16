namespace Cradle.ActiveSync.Rapi;

/// <summary>The file calls a backup and a restore need.</summary>
public sealed partial class RapiClient
{
    /// <summary>The most a reply of a call answering a few words may be (RAPI1's flag and HRESULT included).</summary>
    private const int SmallReply = 256;

    /// <summary>
    /// Lists what matches <paramref name="pattern"/> (<c>\My Documents\*.*</c> lists the folder;
    /// <c>\My Documents</c> is the folder itself; the root is <c>\*.*</c>). A pattern that matches
    /// nothing gives an empty list. Every name is checked (<see cref="CePath.CheckName"/>).
    /// </summary>
    public ValueTask<IReadOnlyList<CeFindData>> FindAllFilesAsync(string pattern, FindAllFilesFlags flags = FindAllFilesFlags.ForBackup, CancellationToken cancellationToken = default)
    {
        var v = Version;
        var maxEntries = _options.MaxEntriesPerFolder;
        return CallAsync(RapiCall.FindAllFiles, RapiRequests.FindAllFiles(v, pattern, flags), _options.MaxListingReplyLength,
            body => RapiReplies.FindAllFiles(body, v, flags, maxEntries, pattern), cancellationToken);
    }

    /// <summary>The attributes of a file or folder, or null when it does not exist.</summary>
    public ValueTask<CeFileAttributes?> GetFileAttributesAsync(string path, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.GetFileAttributes, RapiRequests.GetFileAttributes(v, path), SmallReply,
            body => RapiReplies.GetFileAttributes(body, v, path), cancellationToken);
    }

    public ValueTask<CeFileHandle> CreateFileAsync(string path, uint access, uint share, uint disposition, uint flagsAndAttributes = CeFileAccess.AttributeNormal, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.CreateFile, RapiRequests.CreateFile(v, path, access, share, disposition, flagsAndAttributes), SmallReply,
            body => RapiReplies.CreateFile(body, v, path), cancellationToken);
    }

    /// <summary>Opens a file for reading, others may read it too (what SynCE's pcp does).</summary>
    public ValueTask<CeFileHandle> OpenReadAsync(string path, CancellationToken cancellationToken = default) =>
        CreateFileAsync(path, CeFileAccess.GenericRead, CeFileAccess.ShareRead, CeFileAccess.OpenExisting, CeFileAccess.AttributeNormal, cancellationToken);

    /// <summary>Reads up to <paramref name="destination"/>'s length; returns the count, 0 at the end of the file.</summary>
    public async ValueTask<int> ReadFileAsync(CeFileHandle handle, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        await (await SendReadFileAsync(handle, destination, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>Sends a read request and returns the task of its reply, so that several can be in flight.</summary>
    internal ValueTask<Task<int>> SendReadFileAsync(CeFileHandle handle, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.Length == 0 || destination.Length > ActiveSyncOptions.MaxReadBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), destination.Length, $"a read asks for 1 to {ActiveSyncOptions.MaxReadBlockSize} bytes");
        }

        var v = Version;
        return SendAsync(RapiCall.ReadFile, RapiRequests.ReadFile(v, handle, (uint)destination.Length), destination.Length + SmallReply,
            body => RapiReplies.ReadFile(body, v, destination.Span), cancellationToken);
    }

    /// <summary>Writes <paramref name="data"/> (at most <see cref="ActiveSyncOptions.MaxReadBlockSize"/>); returns the bytes the device wrote.</summary>
    public ValueTask<int> WriteFileAsync(CeFileHandle handle, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (data.Length > ActiveSyncOptions.MaxReadBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, $"a write sends at most {ActiveSyncOptions.MaxReadBlockSize} bytes");
        }

        var v = Version;
        var sent = data.Length;
        return CallAsync(RapiCall.WriteFile, RapiRequests.WriteFile(v, handle, data.Span), SmallReply,
            body => RapiReplies.WriteFile(body, v, sent), cancellationToken);
    }

    public ValueTask CloseHandleAsync(CeFileHandle handle, CancellationToken cancellationToken = default) =>
        BoolCallAsync(RapiCall.CloseHandle, RapiRequests.CloseHandle(Version, handle), null, cancellationToken);

    /// <summary>
    /// Sends a close and returns once it is on the wire, not waiting for the reply: the device
    /// answers its session's calls in order, so the close is done before anything sent after it,
    /// and a backup reading many small files saves a round trip per file. A close the device
    /// refuses is logged; it changes nothing of what was read.
    /// </summary>
    internal async ValueTask SendCloseHandleAsync(CeFileHandle handle, CancellationToken cancellationToken = default)
    {
        var v = Version;
        var reply = await SendAsync(RapiCall.CloseHandle, RapiRequests.CloseHandle(v, handle), SmallReply, body =>
        {
            RapiReplies.Bool(body, v, RapiCall.CloseHandle, null);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        _ = reply.ContinueWith(static (t, state) =>
        {
            var client = (RapiClient)state!;
            if (!client.IsBroken)
            {
                ActiveSyncLog.CloseFailed(client._logger, client._deviceLabel, t.Exception!.GetBaseException().Message);
            }
        }, this, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Moves the file pointer to <paramref name="offset"/> from the start; returns the new position.</summary>
    public ValueTask<long> SetFilePointerAsync(CeFileHandle handle, long offset, CancellationToken cancellationToken = default)
    {
        if (offset < 0 || (Version == RapiVersion.Rapi1 && offset > uint.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, "the offset is not reachable with this RAPI version");
        }

        var v = Version;
        return CallAsync(RapiCall.SetFilePointer, RapiRequests.SetFilePointer(v, handle, offset, 0), SmallReply,
            body => RapiReplies.SetFilePointer(body, v), cancellationToken);
    }

    /// <summary>The file's creation, last-access and last-write times (RAPI2 only; a listing gives them on RAPI1).</summary>
    public ValueTask<CeFileTimes> GetFileTimeAsync(CeFileHandle handle, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.GetFileTime, RapiRequests.GetFileTime(v, handle), SmallReply,
            body => RapiReplies.GetFileTime(body, v), cancellationToken);
    }

    /// <summary>Sets the times that are not null (RAPI2 only: no RAPI1 encoding of CeSetFileTime is known).</summary>
    public ValueTask SetFileTimeAsync(CeFileHandle handle, CeFileTimes times, CancellationToken cancellationToken = default) =>
        BoolCallAsync(RapiCall.SetFileTime, RapiRequests.SetFileTime(Version, handle, times), null, cancellationToken);

    public ValueTask<long> GetFileSizeAsync(CeFileHandle handle, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.GetFileSize, RapiRequests.GetFileSize(v, handle), SmallReply,
            body => RapiReplies.GetFileSize(body, v), cancellationToken);
    }

    public ValueTask CreateDirectoryAsync(string path, CancellationToken cancellationToken = default) =>
        BoolCallAsync(RapiCall.CreateDirectory, RapiRequests.CreateDirectory(Version, path), path, cancellationToken);

    public ValueTask RemoveDirectoryAsync(string path, CancellationToken cancellationToken = default) =>
        BoolCallAsync(RapiCall.RemoveDirectory, RapiRequests.RemoveDirectory(Version, path), path, cancellationToken);

    public ValueTask DeleteFileAsync(string path, CancellationToken cancellationToken = default) =>
        BoolCallAsync(RapiCall.DeleteFile, RapiRequests.DeleteFile(Version, path), path, cancellationToken);

    /// <summary>
    /// Renames <paramref name="existing"/> to <paramref name="target"/> (CeMoveFile). Like Windows'
    /// MoveFile it fails when <paramref name="target"/> exists (error 183): a restore writes under a
    /// temporary name and moves the whole file into place.
    /// </summary>
    public ValueTask MoveFileAsync(string existing, string target, CancellationToken cancellationToken = default) =>
        BoolCallAsync(RapiCall.MoveFile, RapiRequests.MoveFile(Version, existing, target), target, cancellationToken);

    /// <summary>Free and total space of the volume holding <paramref name="path"/> (RAPI2: CeGetDiskFreeSpaceEx).</summary>
    public ValueTask<CeDiskSpace> GetDiskFreeSpaceAsync(string path, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.GetDiskFreeSpaceEx, RapiRequests.GetDiskFreeSpaceEx(v, path), SmallReply,
            body => RapiReplies.GetDiskFreeSpaceEx(body, v, path), cancellationToken);
    }

    /// <summary>Size and free space of the object store (both versions; RAPI1's only free-space call).</summary>
    public ValueTask<CeStoreInformation> GetStoreInformationAsync(CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.GetStoreInformation, RapiRequests.GetStoreInformation(v), SmallReply,
            body => RapiReplies.GetStoreInformation(body, v), cancellationToken);
    }

    /// <summary>A special folder's path, e.g. <see cref="CeSpecialFolder.Personal"/> → <c>\My Documents</c>.</summary>
    public ValueTask<string> GetSpecialFolderPathAsync(int folder, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.GetSpecialFolderPath, RapiRequests.GetSpecialFolderPath(v, folder), SmallReply + RapiReplies.MaxPathChars * 2,
            body => RapiReplies.GetSpecialFolderPath(body, v, folder), cancellationToken);
    }

    /// <summary>Runs a configuration document (CeProcessConfig, e.g. a WM5 partnership's sync source) and returns the device's reply XML.</summary>
    public ValueTask<string> ProcessConfigAsync(string xml, uint flags = 1, CancellationToken cancellationToken = default)
    {
        var v = Version;
        var cap = _options.MaxListingReplyLength;
        return CallAsync(RapiCall.ProcessConfig, RapiRequests.ProcessConfig(v, xml, flags), cap,
            body => RapiReplies.ProcessConfig(body, v, cap - SmallReply), cancellationToken);
    }

    private async ValueTask BoolCallAsync(RapiCall call, byte[] request, string? subject, CancellationToken cancellationToken)
    {
        var v = Version;
        await CallAsync(call, request, SmallReply, body =>
        {
            RapiReplies.Bool(body, v, call, subject);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }
}
