namespace Cradle.Store;

/// <summary>Opens the pack storage a setting names (<c>--packs</c>, cradle.json <c>packs</c>).</summary>
internal static class PackStorage
{
    /// <summary>The setting's default: the <c>packs</c> folder inside the host's folder.</summary>
    public const string DefaultFolder = "packs";

    /// <summary>Checks a setting's value without opening anything.</summary>
    public static void Validate(string value)
    {
        if (S3PackAddress.IsS3(value))
        {
            S3PackAddress.Parse(value);
        }
        else if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException("give a folder or an s3:// address");
        }
    }

    /// <summary>
    /// A folder (relative to <paramref name="hostFolder"/>) or an <c>s3://</c> address; object
    /// storage stages new packs in <c>staging/</c> inside the host's folder.
    /// </summary>
    public static IPackStorage Open(string? value, string hostFolder)
    {
        value = string.IsNullOrWhiteSpace(value) ? DefaultFolder : value;
        return S3PackAddress.IsS3(value)
            ? new S3PackStorage(S3PackAddress.Parse(value), Path.Combine(hostFolder, "staging"))
            : new FolderPackStorage(Path.Combine(hostFolder, value));
    }
}
