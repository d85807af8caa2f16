using Cradle.Tests;

namespace Cradle.Store.Tests;

/// <summary>
/// Where a test's store keeps its packs: the store tests that write, read, check and prune packs
/// run once per place (a derived class each), on the folder and on a real S3 server.
/// </summary>
public enum PackPlace
{
    Folder,
    S3,
}

public static class PackPlaces
{
    /// <summary>A new, empty place of this kind: null (the store's own packs/ folder) or a new bucket's address.</summary>
    public static string? New(PackPlace place, string label) => place switch
    {
        PackPlace.Folder => null,
        PackPlace.S3 => RgwServer.Instance.CreateBucket(label),
        _ => throw new ArgumentOutOfRangeException(nameof(place)),
    };
}
