namespace Cradle.Store;

/// <summary>
/// Where sealed packs live: a local folder (the default, <see cref="FolderPackStorage"/>) or
/// S3-compatible object storage (<see cref="S3PackStorage"/>). A pack is written whole to a local
/// staging file first (<see cref="PackWriter"/>), then <see cref="PutAsync"/> makes it durable
/// under its name; only after that may the catalog name it. Names look like <c>3f/3f9a….pack</c>.
/// </summary>
internal interface IPackStorage
{
    /// <summary>Where the packs are, for messages and logs; never holds a secret.</summary>
    string Location { get; }

    /// <summary>The local file a new pack named <paramref name="name"/> is written to before it is put.</summary>
    string StagingPathFor(string name);

    /// <summary>
    /// Makes a sealed, flushed staging file durable as pack <paramref name="name"/>. When this
    /// returns the pack survives a crash of this machine; the staging file may be gone.
    /// </summary>
    Task PutAsync(string name, string stagingPath, CancellationToken cancellationToken);

    /// <summary>Opens a pack for positional reads; throws <see cref="StoreCorruptException"/> when it is missing.</summary>
    Task<IPackHandle> OpenReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>The pack's length in bytes, or null when there is no such pack.</summary>
    Task<long?> LengthOfAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every pack there is (names as the catalog spells them), named by the catalog or not.</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Deletes a pack durably; deleting one that is not there is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Staging files that are not packs in the storage (left by a crash before the upload);
    /// deleted by prune, which holds the store lock, so no writer is filling one.
    /// </summary>
    IReadOnlyList<string> StagedLeftovers();
}

/// <summary>
/// An open pack: positional reads, like <see cref="RandomAccess.ReadAsync(Microsoft.Win32.SafeHandles.SafeFileHandle, Memory{byte}, long, CancellationToken)"/>.
/// Asynchronous because an object's bytes come over the network; a file's read completes at once
/// (a <see cref="ValueTask{TResult}"/>, so the many small reads of a restore allocate nothing).
/// </summary>
internal interface IPackHandle : IDisposable
{
    long Length { get; }

    /// <summary>Reads up to <paramref name="destination"/>'s length at <paramref name="offset"/>; fewer bytes only at the end of the pack.</summary>
    ValueTask<int> ReadAsync(Memory<byte> destination, long offset, CancellationToken cancellationToken);
}
