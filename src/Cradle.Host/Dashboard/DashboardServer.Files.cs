using System.IO.Compression;
using Cradle.Content;
using Cradle.Protocol;
using Cradle.Store;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Cradle.Host.Dashboard;

/// <summary>A snapshot's files: browse a folder, download a file or a folder as a zip, restore into a folder on the host.</summary>
public sealed partial class DashboardServer
{
    /// <summary>How many snapshot trees are kept parsed for browsing (a tree never changes).</summary>
    private const int TreesKept = 4;

    private readonly LinkedList<(long Id, SnapshotInfo Info, List<TreeEntry> Entries)> _trees = new();

    private async Task EntriesAsync(HttpContext context)
    {
        var (info, entries) = await LoadTreeAsync(RouteId(context), context.RequestAborted).ConfigureAwait(false);
        var folder = FolderPath(context.Request.Query["path"]);
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var rows = new Dictionary<string, EntryRow>(StringComparer.Ordinal);
        var found = folder.Length == 0;
        foreach (var e in entries)
        {
            if (!e.Path.StartsWith(prefix, StringComparison.Ordinal))
            {
                found |= e.Path == folder;
                continue;
            }

            found = true;
            var rest = e.Path[prefix.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var name = slash < 0 ? rest : rest[..slash];
            var isFile = e.Kind == EntryKind.File;
            rows.TryGetValue(name, out var row);
            if (slash < 0 && isFile)
            {
                rows[name] = new EntryRow(name, e.Path, "file", e.Size, 1, new DateTimeOffset(e.MtimeUtc));
                continue;
            }

            // A folder: its own entry (with its time) or one of the paths beneath it.
            row ??= new EntryRow(name, prefix + name, "folder", 0, 0, null);
            rows[name] = row with
            {
                Size = row.Size + (isFile ? e.Size : 0),
                Files = row.Files + (isFile ? 1 : 0),
                Modified = slash < 0 ? new DateTimeOffset(e.MtimeUtc) : row.Modified,
            };
        }

        if (!found)
        {
            throw new KeyNotFoundException($"snapshot {info.Id} has no folder \"{folder}\"");
        }

        using var catalog = _host.Store.OpenCatalog();
        var problems = info.Partial ? catalog.ListProblems(info.Id) : [];
        var listing = new EntryListing(SnapshotRow.Of(info, catalog), folder, [.. rows.Values
            .Select(r => r with { Problem = ProblemAt(r.Path, problems) })
            .OrderBy(r => r.Kind == "file").ThenBy(r => r.Name, StringComparer.Ordinal)]);
        await context.Response.WriteAsJsonAsync(listing, DashboardJson.Default.EntryListing, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Why an entry of a partial snapshot is not this backup's own reading: it (or a folder above
    /// it) could not be read and the earlier version stands in, or something beneath it could not.
    /// </summary>
    private static string? ProblemAt(string path, List<SnapshotProblem> problems)
    {
        foreach (var p in problems.Where(p => p.Path.Length > 0))
        {
            if (path == p.Path || path.StartsWith(p.Path + "/", StringComparison.Ordinal))
            {
                return p.CarriedForward > 0
                    ? $"could not be read ({p.Reason}): the version of snapshot {p.FromSnapshot} is kept"
                    : $"could not be read ({p.Reason})";
            }
        }

        var beneath = problems.Count(p => p.Path.StartsWith(path + "/", StringComparison.Ordinal));
        return beneath == 0 ? null : $"{Words.Count(beneath, "entry", "entries")} beneath could not be read";
    }

    private async Task DownloadFileAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var path = SnapshotPath.Validate(context.Request.Query["path"].ToString());
        var (info, entries) = await LoadTreeAsync(RouteId(context), cancellationToken).ConfigureAwait(false);
        var entry = entries.FirstOrDefault(e => e.Path == path && e.Kind == EntryKind.File)
            ?? throw new KeyNotFoundException($"snapshot {info.Id} has no file \"{path}\"");
        using var lease = _host.Store.Lease("dashboard");
        using var reader = _host.Store.OpenReader();
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = entry.Size;
        SetAttachment(context, path[(path.LastIndexOf('/') + 1)..]);
        var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
        foreach (var id in entry.Chunks)
        {
            var location = reader.Locate(id);
            await reader.ReadChunkAsync(location, buffer.AsMemory(0, location.Entry.RawLength), cancellationToken).ConfigureAwait(false);
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, location.Entry.RawLength), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DownloadZipAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var folder = FolderPath(context.Request.Query["path"]);
        var (info, entries) = await LoadTreeAsync(RouteId(context), cancellationToken).ConfigureAwait(false);
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var chosen = entries.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        if (chosen.Count == 0)
        {
            throw new KeyNotFoundException($"snapshot {info.Id} has nothing under \"{folder}\"");
        }

        // Names in the zip start at the folder itself: "logs/a.txt" for folder "DATA/logs".
        var strip = folder.Contains('/', StringComparison.Ordinal) ? folder[..(folder.LastIndexOf('/') + 1)].Length : 0;
        var name = folder.Length == 0 ? $"{info.Device}-snapshot-{info.Id}" : folder[(folder.LastIndexOf('/') + 1)..];
        using var lease = _host.Store.Lease("dashboard");
        context.Response.ContentType = "application/zip";
        SetAttachment(context, name + ".zip");

        // ZipArchive writes synchronously: allowed for this response only, on a worker thread.
        context.Features.GetRequiredFeature<IHttpBodyControlFeature>().AllowSynchronousIO = true;
        await Task.Run(() => WriteZipAsync(context.Response.Body, chosen, strip, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Chunks are read asynchronously (packs may be objects); the zip is written synchronously (ZipArchive's own writes).</summary>
    private async Task WriteZipAsync(Stream body, List<TreeEntry> entries, int strip, CancellationToken cancellationToken)
    {
        using var reader = _host.Store.OpenReader();
        var buffered = new BufferedStream(body, 256 * 1024);
        using (var zip = new ZipArchive(buffered, ZipArchiveMode.Create, leaveOpen: true))
        {
            var buffer = new byte[ChunkerOptions.AbsoluteMaxSize];
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var relative = entry.Path[strip..];
                var item = zip.CreateEntry(entry.Kind == EntryKind.Directory ? relative + "/" : relative, CompressionLevel.Fastest);
                item.LastWriteTime = ZipTime(entry.MtimeUtc);
                if (entry.Kind != EntryKind.File)
                {
                    continue;
                }

                using var output = item.Open();
                foreach (var id in entry.Chunks)
                {
                    var location = reader.Locate(id);
                    await reader.ReadChunkAsync(location, buffer.AsMemory(0, location.Entry.RawLength), cancellationToken).ConfigureAwait(false);
                    output.Write(buffer, 0, location.Entry.RawLength);
                }
            }
        }

        buffered.Flush();
    }

    private async Task RestoreAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var request = await ReadBodyAsync(context, DashboardJson.Default.RestoreRequest).ConfigureAwait(false)
            ?? throw new ArgumentException("give the folder to restore into: {\"to\": \"NAME\"} (a new folder in the restore root)");
        var target = RestoreTarget(request.To);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            // From a browser, never overwrite: the CLI's 'cradle host restore' is there for that.
            throw new ArgumentException($"{target} is not empty; restore into a new or empty folder");
        }

        var id = RouteId(context);
        using var lease = _host.Store.Lease("dashboard");
        using var reader = _host.Store.OpenReader();
        var info = reader.Catalog.GetSnapshot(id) ?? throw new KeyNotFoundException($"there is no snapshot {id}");
        var result = await new FolderRestorer(reader).RestoreAsync(info, target, null, cancellationToken).ConfigureAwait(false);
        DashboardLog.Action(_logger, $"restored snapshot {info.Id} of {info.Device} into {target}: {result.Files} files, {result.Bytes} bytes");
        var done = new RestoreDone(info.Id, info.Device, target, result.Files, result.Folders, result.Bytes);
        await context.Response.WriteAsJsonAsync(done, DashboardJson.Default.RestoreDone, contentType: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The restore root: the dashboard writes nowhere else (made when missing, owner-only).</summary>
    public string RestoreRoot => _options.RestoreRoot ?? Path.Combine(_host.Store.Folder, DashboardOptions.DefaultRestoreFolder);

    /// <summary>
    /// Where a restore asked for <paramref name="to"/> goes: a folder inside the restore root (a
    /// relative name, or an absolute path inside it), reached through no symbolic link. The
    /// dashboard runs with the host's rights; without this a request could write wherever the
    /// host may (a key into /root/.ssh when it ran as root).
    /// </summary>
    private string RestoreTarget(string? to)
    {
        if (string.IsNullOrWhiteSpace(to))
        {
            throw new ArgumentException("give the folder to restore into: a new folder in the restore root");
        }

        var configured = Path.TrimEndingDirectorySeparator(Path.GetFullPath(RestoreRoot));
        Content.PrivateFiles.CreateFolder(configured);
        // The root as it really is (the operator may have made it a link); below it, no link is followed.
        var root = Path.TrimEndingDirectorySeparator(new DirectoryInfo(configured).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? configured);
        var relative = Path.IsPathFullyQualified(to)
            ? Inside(Path.GetFullPath(to), configured) ?? Inside(Path.GetFullPath(to), root)
                ?? throw new ArgumentException($"'{to}' is outside the restore root {configured}: the dashboard restores only into a folder inside it (cradle host run --restore-root DIR sets it; 'cradle host restore' on the host restores anywhere)")
            : to;
        var target = Path.GetFullPath(Path.Combine(root, relative));
        if (Inside(target, root) is null)
        {
            throw new ArgumentException($"'{to}' leads outside the restore root {configured}");
        }

        for (var folder = target; folder.Length > root.Length; folder = Path.GetDirectoryName(folder)!)
        {
            if (new FileInfo(folder).LinkTarget is not null)
            {
                throw new ArgumentException($"'{to}' goes through a symbolic link ({folder}); the dashboard does not follow links out of the restore root");
            }
        }

        return target;
    }

    /// <summary>The part of <paramref name="path"/> below <paramref name="folder"/>, or null when it is not below it.</summary>
    private static string? Inside(string path, string folder) =>
        path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal) && path.Length > folder.Length + 1 ? path[(folder.Length + 1)..] : null;

    /// <summary>A snapshot's entries, parsed once and kept for the next folder the operator opens.</summary>
    private async Task<(SnapshotInfo Info, List<TreeEntry> Entries)> LoadTreeAsync(long id, CancellationToken cancellationToken)
    {
        lock (_trees)
        {
            var cached = _trees.FirstOrDefault(t => t.Id == id);
            if (cached.Info is not null)
            {
                return (cached.Info, cached.Entries);
            }
        }

        using var lease = _host.Store.Lease("dashboard");
        using var reader = _host.Store.OpenReader();
        var info = reader.Catalog.GetSnapshot(id) ?? throw new KeyNotFoundException($"there is no snapshot {id}");
        var entries = await reader.LoadTreeAsync(info, cancellationToken).ConfigureAwait(false);
        lock (_trees)
        {
            _trees.AddFirst((id, info, entries));
            while (_trees.Count > TreesKept)
            {
                _trees.RemoveLast();
            }
        }

        return (info, entries);
    }

    /// <summary>A folder path from the query: empty for the snapshot's top, else a checked snapshot path.</summary>
    private static string FolderPath(string? text)
    {
        var trimmed = (text ?? "").Trim('/');
        return trimmed.Length == 0 ? "" : SnapshotPath.Validate(trimmed);
    }

    private static void SetAttachment(HttpContext context, string fileName)
    {
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(fileName);
        context.Response.Headers.ContentDisposition = disposition.ToString();
    }

    /// <summary>Zip times run from 1980 to 2107.</summary>
    private static DateTimeOffset ZipTime(DateTime utc)
    {
        var clamped = utc < new DateTime(1980, 1, 2, 0, 0, 0, DateTimeKind.Utc) ? new DateTime(1980, 1, 2, 0, 0, 0, DateTimeKind.Utc)
            : utc > new DateTime(2107, 12, 30, 0, 0, 0, DateTimeKind.Utc) ? new DateTime(2107, 12, 30, 0, 0, 0, DateTimeKind.Utc)
            : utc;
        return new DateTimeOffset(clamped);
    }
}
