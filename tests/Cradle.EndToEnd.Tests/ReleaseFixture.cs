using System.Formats.Tar;
using System.IO.Compression;
using System.Reflection;

namespace Cradle.EndToEnd.Tests;

/// <summary>
/// A copy, in a test's folder, of what an earlier release wrote (tests/fixtures/vX.Y.Z: see
/// its README): a host folder, the partnered device's state folder, and the files it backed up.
/// </summary>
public sealed class ReleaseFixture
{
    /// <summary>The time make.sh gave every file and folder of the device's data.</summary>
    public static readonly DateTime DataTime = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    private ReleaseFixture(string folder, string source)
    {
        Host = Path.Combine(folder, "host");
        State = Path.Combine(folder, "state");
        Source = source;
    }

    /// <summary>The host folder (<c>--data</c>).</summary>
    public string Host { get; }

    /// <summary>The device state folder (<c>--state</c>).</summary>
    public string State { get; }

    /// <summary>The device's data folder as it was at the last backup (read only: it is in the repository).</summary>
    public string Source { get; }

    /// <summary>Unpacks tests/fixtures/<paramref name="release"/>/store.tar.gz into <paramref name="folder"/>.</summary>
    public static async Task<ReleaseFixture> ExtractAsync(string release, string folder)
    {
        var root = typeof(ReleaseFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FixturesFolder").Value!;
        var fixture = Path.Combine(root, release);
        Directory.CreateDirectory(folder);
        await using (var archive = File.OpenRead(Path.Combine(fixture, "store.tar.gz")))
        await using (var gzip = new GZipStream(archive, CompressionMode.Decompress))
        {
            await TarFile.ExtractToDirectoryAsync(gzip, folder, overwriteFiles: false);
        }

        return new ReleaseFixture(folder, Path.Combine(fixture, "source", "files"));
    }

    /// <summary>
    /// Copies the device's data as a snapshot should restore it, without the paths given, with
    /// make.sh's time on every file and folder (git keeps no times).
    /// </summary>
    public string ExpectedData(string target, params string[] without)
    {
        TempFolder.CopyTree(Source, target);
        foreach (var path in without)
        {
            File.Delete(Path.Combine(target, path));
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(target, "*", SearchOption.AllDirectories))
        {
            if (Directory.Exists(entry))
            {
                Directory.SetLastWriteTimeUtc(entry, DataTime);
            }
            else
            {
                File.SetLastWriteTimeUtc(entry, DataTime);
            }
        }

        return target;
    }
}
