using System.Globalization;
using Cradle.Content;

namespace Cradle.Store;

/// <summary>What is in a restore's target folder before the restore starts.</summary>
internal enum RestoreTargetState
{
    /// <summary>Missing or empty: the restore starts there.</summary>
    Empty,

    /// <summary>
    /// An unfinished restore of the same snapshot, and nothing else: the folder holds this
    /// restore's marker and only paths of the snapshot (and temporary files of the cut run).
    /// The restore resumes: files already whole stay, the rest are written.
    /// </summary>
    Unfinished,

    /// <summary>Anything else: the restore writes there only when told to overwrite.</summary>
    Occupied,
}

/// <summary>
/// A restore's target folder as found: its state, how many entries it holds, and the
/// unfinished restore its marker names, if any. A restore leaves the marker
/// (<see cref="MarkerName"/>: the snapshot and device, in plain text) in the folder while it
/// runs and removes it when it ends whole, so a cut restore is recognised by its rerun.
/// </summary>
internal sealed record RestoreTarget(RestoreTargetState State, int Entries, long? MarkerSnapshot, string? MarkerDevice)
{
    /// <summary>The marker of a restore under way (or cut), in the target folder's top.</summary>
    public const string MarkerName = ".cradle-restore";

    private const string MarkerHeader = "cradle restore 1";

    /// <summary>Looks at <paramref name="root"/> for a restore of <paramref name="snapshot"/> whose entries are <paramref name="entries"/>.</summary>
    public static RestoreTarget Inspect(string root, SnapshotInfo snapshot, IReadOnlyList<TreeEntry> entries)
    {
        if (!Directory.Exists(root))
        {
            return new RestoreTarget(RestoreTargetState.Empty, 0, null, null);
        }

        var (markerSnapshot, markerDevice) = ReadMarker(Path.Combine(root, MarkerName));
        var paths = new HashSet<string>(entries.Select(e => e.Path), StringComparer.Ordinal);
        var count = 0;
        var foreign = false;
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            count++;
            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            foreign |= relative != MarkerName && !RestoredFile.IsTempName(Path.GetFileName(path)) && !paths.Contains(relative);
        }

        if (count == 0)
        {
            return new RestoreTarget(RestoreTargetState.Empty, 0, null, null);
        }

        var same = markerSnapshot == snapshot.Id && string.Equals(markerDevice, snapshot.Device, StringComparison.OrdinalIgnoreCase);
        return new RestoreTarget(same && !foreign ? RestoreTargetState.Unfinished : RestoreTargetState.Occupied, count, markerSnapshot, markerDevice);
    }

    /// <summary>Why a restore into this folder needs <c>--overwrite</c>, in words.</summary>
    public string Refusal(string root, SnapshotInfo snapshot)
    {
        var what = $"{root} is not empty ({Entries.ToString(CultureInfo.InvariantCulture)} entries)";
        var unfinished = MarkerSnapshot is { } id && MarkerDevice is { } device
            ? id == snapshot.Id && string.Equals(device, snapshot.Device, StringComparison.OrdinalIgnoreCase)
                ? $"; it holds an unfinished restore of snapshot {id} of {device}, but also files that are not that snapshot's"
                : $"; it holds an unfinished restore of snapshot {id} of {device}: run the same restore (--snapshot {id}) to finish it"
            : "";
        return $"{what}{unfinished}. Restore into an empty or new folder, or give --overwrite to write the snapshot's files over what is there (files not in the snapshot are left alone)";
    }

    /// <summary>Writes the marker (durably: a rerun after a crash must find it).</summary>
    public static void WriteMarker(string root, SnapshotInfo snapshot)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{MarkerHeader}\nsnapshot {snapshot.Id}\ndevice {snapshot.Device}\n");
        using var file = new FileStream(Path.Combine(root, MarkerName), FileMode.Create, FileAccess.Write, FileShare.None);
        file.Write(System.Text.Encoding.UTF8.GetBytes(text));
        file.Flush(flushToDisk: true);
    }

    /// <summary>Removes the marker: the restore ended whole.</summary>
    public static void RemoveMarker(string root) => File.Delete(Path.Combine(root, MarkerName));

    private static (long? Snapshot, string? Device) ReadMarker(string path)
    {
        if (!File.Exists(path) || new FileInfo(path).Length > 4096)
        {
            return (null, null);
        }

        var lines = File.ReadAllLines(path);
        if (lines.Length < 3 || lines[0] != MarkerHeader || !lines[1].StartsWith("snapshot ", StringComparison.Ordinal) || !lines[2].StartsWith("device ", StringComparison.Ordinal)
            || !long.TryParse(lines[1].AsSpan("snapshot ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return (null, null);
        }

        return (id, lines[2]["device ".Length..]);
    }
}
