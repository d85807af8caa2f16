namespace Cradle.ActiveSync.Emulator;

/// <summary>The file calls.</summary>
internal sealed partial class RapiSession
{
    private const int FindDataBytes = 560;
    private const uint FafAttributes = 0x1, FafCreation = 0x2, FafAccess = 0x4, FafWrite = 0x8, FafSizeHigh = 0x10, FafSizeLow = 0x20, FafOid = 0x40, FafName = 0x80;
    private const uint FafNoHidden = 0x2000, FafFoldersOnly = 0x4000;

    private EmulatedDevice.RapiReply FindAllFiles(RequestReader r)
    {
        var pattern = Path(r);
        var flags = r.U32();
        var found = Find(pattern);
        var entries = (found ?? [])
            .Where(e => (flags & FafNoHidden) == 0 || (Fs.Attributes(e) & EmulatedFileSystem.AttributeHidden) == 0)
            .Where(e => (flags & FafFoldersOnly) == 0 || Directory.Exists(e))
            .Select(e => (Name: System.IO.Path.GetFileName(e), Host: (string?)e))
            .Concat(Faults.HostileNames.Select(n => (Name: n, Host: (string?)null)))
            .ToList();

        var count = (uint)entries.Count + (Faults.LyingCountIn == "CeFindAllFiles" ? 1000u : 0u);
        var w = Begin();
        if (Version == 2)
        {
            w.U32(entries.Count == 0 ? ErrorNoMoreFiles : 0).U32(entries.Count == 0 ? 0u : 1u);
        }

        w.U32(count);
        foreach (var (name, host) in entries)
        {
            var nameChars = (uint)name.Length + (Faults.NamesWithoutNul ? 0u : 1u);
            if ((flags & FafName) != 0)
            {
                w.U32(Version == 2 ? nameChars * 2 : nameChars);
            }

            var attributes = host is null ? EmulatedFileSystem.AttributeArchive : Fs.Attributes(host);
            var size = host is null ? 1L : EmulatedFileSystem.Size(host);
            if ((flags & FafAttributes) != 0)
            {
                w.U32(attributes);
            }

            if ((flags & FafCreation) != 0)
            {
                w.FileTime(host is null ? 0 : Fs.CreationTime(host));
            }

            if ((flags & FafAccess) != 0)
            {
                w.FileTime(host is null ? 0 : EmulatedFileSystem.LastAccessTime(host));
            }

            if ((flags & FafWrite) != 0)
            {
                w.FileTime(host is null ? 0 : EmulatedFileSystem.LastWriteTime(host));
            }

            if ((flags & FafSizeHigh) != 0)
            {
                w.U32((uint)(size >> 32));
            }

            if ((flags & FafSizeLow) != 0)
            {
                w.U32(unchecked((uint)size));
            }

            if ((flags & FafOid) != 0)
            {
                w.U32(0);
            }

            if ((flags & FafName) != 0)
            {
                w.Utf16(name, nul: !Faults.NamesWithoutNul);
            }
        }

        return new(w);
    }

    private EmulatedDevice.RapiReply FindFirstFile(RequestReader r)
    {
        var entries = Find(Path(r)) ?? [];
        var w = Begin();
        if (entries.Count == 0)
        {
            return new(w.U32(ErrorNoMoreFiles).U32(Invalid).U32(0));
        }

        var handle = _nextHandle++;
        _finds[handle] = (entries, 1);
        w.U32(0).U32(handle);
        return new(FindData(w, entries[0]));
    }

    private EmulatedDevice.RapiReply FindNextFile(RequestReader r)
    {
        var handle = r.U32();
        var w = Begin();
        if (!_finds.TryGetValue(handle, out var find))
        {
            return new(w.U32(ErrorInvalidHandle).U32(0).U32(0));
        }

        if (find.Next >= find.Entries.Count)
        {
            return new(w.U32(ErrorNoMoreFiles).U32(0).U32(0));
        }

        _finds[handle] = (find.Entries, find.Next + 1);
        w.U32(0).U32(1);
        return new(FindData(w, find.Entries[find.Next]));
    }

    private EmulatedDevice.RapiReply FindClose(RequestReader r) => Bool(_finds.Remove(r.U32()) ? 0 : ErrorInvalidHandle);

    private ReplyWriter FindData(ReplyWriter w, string host)
    {
        var size = EmulatedFileSystem.Size(host);
        var name = new byte[520];
        System.Text.Encoding.Unicode.GetBytes(System.IO.Path.GetFileName(host).AsSpan(0, Math.Min(259, System.IO.Path.GetFileName(host).Length)), name);
        return w.U32(FindDataBytes).U32(Fs.Attributes(host)).FileTime(Fs.CreationTime(host)).FileTime(EmulatedFileSystem.LastAccessTime(host))
            .FileTime(EmulatedFileSystem.LastWriteTime(host)).U32((uint)(size >> 32)).U32(unchecked((uint)size)).U32(0).Bytes(name);
    }

    /// <summary>What a pattern names: a folder's matching entries (wildcard in the last name) or the entry itself.</summary>
    private List<string>? Find(string? pattern)
    {
        var names = EmulatedFileSystem.Split(pattern);
        if (names is null || names.Length == 0)
        {
            return null;
        }

        if (EmulatedFileSystem.HasWildcard(names[^1]))
        {
            var folder = Fs.Resolve(names[..^1]);
            return folder is not null && Directory.Exists(folder) ? [.. EmulatedFileSystem.Match(folder, names[^1])] : null;
        }

        var entry = Fs.Resolve(names);
        return entry is null ? null : [entry];
    }

    private EmulatedDevice.RapiReply GetFileAttributes(RequestReader r)
    {
        var host = Fs.Resolve(Path(r));
        return host is null ? Result(ErrorFileNotFound, Invalid) : Result(0, Fs.Attributes(host));
    }

    private EmulatedDevice.RapiReply CreateFile(RequestReader r)
    {
        string? path = null;
        if (Version == 2)
        {
            path = r.String2();
        }

        var access = r.U32();
        r.U32(); // share: the emulator lets everyone share
        var disposition = r.U32();
        r.U32(); // flags and attributes
        r.U32(); // template
        if (Version == 1)
        {
            path = r.String1();
        }

        var existing = Fs.Resolve(path);
        if (existing is not null && Directory.Exists(existing))
        {
            return Result(ErrorAccessDenied, Invalid);
        }

        var target = existing ?? Fs.ResolveNew(path);
        if (target is null)
        {
            return Result(EmulatedFileSystem.Split(path) is { Length: > 1 } ? ErrorPathNotFound : ErrorFileNotFound, Invalid);
        }

        FileMode? mode = (disposition, existing is not null) switch
        {
            (1, true) => null,
            (1, false) => FileMode.CreateNew,
            (2, _) => FileMode.Create,
            (3, true) => FileMode.Open,
            (3, false) => null,
            (4, _) => FileMode.OpenOrCreate,
            (5, true) => FileMode.Truncate,
            _ => null,
        };
        if (mode is null)
        {
            return Result(existing is not null ? ErrorFileExists : ErrorFileNotFound, Invalid);
        }

        var fileAccess = (access & 0x40000000) != 0 ? ((access & 0x80000000) != 0 ? FileAccess.ReadWrite : FileAccess.Write) : FileAccess.Read;
        var stream = new FileStream(target, mode.Value, fileAccess, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
        var handle = _nextHandle++;
        _files[handle] = stream;
        device.Counters.Count("files-opened");
        device.Counters.Max("max-files-open", device.Counters.Open(+1));
        return Result(0, handle);
    }

    private EmulatedDevice.RapiReply ReadFile(RequestReader r)
    {
        var handle = r.U32();
        var count = Version == 2 ? r.U32() : r.OptionalOutSize() ?? 0;
        if (!_files.TryGetValue(handle, out var file))
        {
            return new(Begin().U32(ErrorInvalidHandle).U32(0).U32(0));
        }

        var want = (int)Math.Min(count, 16u * 1024 * 1024);
        if (Faults.ShortReadMax > 0)
        {
            want = Math.Min(want, Faults.ShortReadMax);
        }

        var data = new byte[want];
        var n = file.Read(data, 0, want);
        device.Counters.Count("file-bytes-sent", n);
        var lying = Faults.LyingCountIn == "CeReadFile";
        var vanish = Faults.VanishAfterReadBytes > 0 && device.Counters.FileBytesSent > Faults.VanishAfterReadBytes;
        return new(Begin().U32(0).U32(1).U32((uint)n + (lying ? 4096u : 0u)).Bytes(data.AsSpan(0, n)), VanishMidway: vanish);
    }

    private EmulatedDevice.RapiReply WriteFile(RequestReader r)
    {
        var handle = r.U32();
        var data = Version == 2 ? r.Bytes(r.U32()) : r.OptionalIn() ?? [];
        if (!_files.TryGetValue(handle, out var file))
        {
            return new(Begin().U32(ErrorInvalidHandle).U32(0).U32(0));
        }

        file.Write(data);
        file.Flush(flushToDisk: false);
        device.Counters.Count("file-bytes-received", data.Length);
        var vanish = Faults.VanishAfterWriteBytes > 0 && device.Counters.FileBytesReceived > Faults.VanishAfterWriteBytes;
        return new(Begin().U32(0).U32(1).U32((uint)data.Length), VanishMidway: vanish);
    }

    private EmulatedDevice.RapiReply CloseHandle(RequestReader r)
    {
        var handle = r.U32();
        if (!_files.Remove(handle, out var file))
        {
            return Bool(ErrorInvalidHandle);
        }

        file.Dispose();
        device.Counters.Open(-1);
        return Bool(0);
    }

    private EmulatedDevice.RapiReply SetFilePointer(RequestReader r)
    {
        var handle = r.U32();
        var low = r.U32();
        var hasHigh = Version == 1 || r.U32() != 0;
        var high = hasHigh ? r.U32() : 0;
        var method = r.U32();
        if (!_files.TryGetValue(handle, out var file))
        {
            return new(Begin().U32(ErrorInvalidHandle).U32(Invalid).U32(0));
        }

        var distance = (long)(((ulong)high << 32) | low);
        var position = file.Seek(distance, method switch { 1 => SeekOrigin.Current, 2 => SeekOrigin.End, _ => SeekOrigin.Begin });
        var w = Begin().U32(0).U32(unchecked((uint)position));
        return new(Version == 2 ? w.U32((uint)(position >> 32)) : w);
    }

    private EmulatedDevice.RapiReply GetFileSize(RequestReader r)
    {
        var handle = r.U32();
        r.OptionalOutSize();
        if (!_files.TryGetValue(handle, out var file))
        {
            return new(Begin().U32(ErrorInvalidHandle).U32(Invalid).U32(0));
        }

        return new(Begin().U32(0).U32(unchecked((uint)file.Length)).U32(1).U32(4).U32(1).U32((uint)(file.Length >> 32)));
    }

    private EmulatedDevice.RapiReply GetFileTime(RequestReader r)
    {
        if (!_files.TryGetValue(r.U32(), out var file))
        {
            return Result(ErrorInvalidHandle, 0);
        }

        return new(Begin().U32(0).U32(1).FileTime(Fs.CreationTime(file.Name)).FileTime(EmulatedFileSystem.LastAccessTime(file.Name)).FileTime(EmulatedFileSystem.LastWriteTime(file.Name)));
    }

    private EmulatedDevice.RapiReply SetFileTime(RequestReader r)
    {
        var handle = r.U32();
        var times = new long?[3];
        for (var i = 0; i < 3; i++)
        {
            var size = r.U32();
            times[i] = size == 8 ? BitConverter.ToInt64(r.Bytes(8)) : null;
            if (size is not (0 or 8))
            {
                r.Bytes(size);
            }
        }

        if (!_files.TryGetValue(handle, out var file))
        {
            return Bool(ErrorInvalidHandle);
        }

        // Written bytes first, then the times, as a device applies them to a handle.
        file.Flush(flushToDisk: false);
        if (times[0] is { } created)
        {
            Fs.SetCreationTime(file.Name, created);
        }

        if (times[1] is { } accessed)
        {
            File.SetLastAccessTimeUtc(file.Name, DateTime.FromFileTimeUtc(accessed));
        }

        if (times[2] is { } written)
        {
            File.SetLastWriteTimeUtc(file.Name, DateTime.FromFileTimeUtc(written));
        }

        return Bool(0);
    }

    private EmulatedDevice.RapiReply CreateDirectory(RequestReader r)
    {
        var path = OptionalPath(r);
        if (Fs.Resolve(path) is not null)
        {
            return Bool(ErrorAlreadyExists);
        }

        var target = Fs.ResolveNew(path);
        if (target is null)
        {
            return Bool(ErrorPathNotFound);
        }

        Directory.CreateDirectory(target);
        return Bool(0);
    }

    private EmulatedDevice.RapiReply RemoveDirectory(RequestReader r)
    {
        var host = Fs.Resolve(OptionalPath(r));
        if (host is null || !Directory.Exists(host))
        {
            return Bool(ErrorFileNotFound);
        }

        if (Directory.EnumerateFileSystemEntries(host).Any())
        {
            return Bool(ErrorDirNotEmpty);
        }

        Directory.Delete(host);
        return Bool(0);
    }

    private EmulatedDevice.RapiReply DeleteFile(RequestReader r)
    {
        var host = Fs.Resolve(OptionalPath(r));
        if (host is null)
        {
            return Bool(ErrorFileNotFound);
        }

        if (Directory.Exists(host))
        {
            return Bool(ErrorAccessDenied);
        }

        File.Delete(host);
        return Bool(0);
    }

    /// <summary>CeMoveFile: as Windows' MoveFile, it fails when the new name exists (ERROR_ALREADY_EXISTS).</summary>
    private EmulatedDevice.RapiReply MoveFile(RequestReader r)
    {
        var existing = Fs.Resolve(OptionalPath(r));
        var targetPath = OptionalPath(r);
        if (existing is null)
        {
            return Bool(ErrorFileNotFound);
        }

        if (Fs.Resolve(targetPath) is not null)
        {
            return Bool(ErrorAlreadyExists);
        }

        var target = Fs.ResolveNew(targetPath);
        if (target is null)
        {
            return Bool(ErrorPathNotFound);
        }

        if (Directory.Exists(existing))
        {
            Directory.Move(existing, target);
        }
        else
        {
            File.Move(existing, target);
        }

        return Bool(0);
    }

    private EmulatedDevice.RapiReply GetStoreInformation(RequestReader r)
    {
        // The object store of a real device is tens of megabytes; the test machine's disk is scaled down to fit its u32 fields.
        var drive = new DriveInfo(Fs.Root);
        const long Cap = 256L * 1024 * 1024;
        var store = (uint)Math.Min(drive.TotalSize, Cap);
        var free = (uint)Math.Min(drive.AvailableFreeSpace, store);
        if (Version == 2)
        {
            return new(Begin().U32(0).U32(1).U32(store).U32(free));
        }

        r.OptionalOutSize();
        return new(Begin().U32(0).U32(1).U32(1).U32(8).U32(1).U32(store).U32(free));
    }

    private EmulatedDevice.RapiReply GetDiskFreeSpaceEx(RequestReader r)
    {
        var host = Fs.Resolve(Path(r));
        if (host is null)
        {
            return new(Begin().U32(ErrorPathNotFound).U32(0));
        }

        var drive = new DriveInfo(host);
        return new(Begin().U32(0).U32(1).U64((ulong)drive.AvailableFreeSpace).U64((ulong)drive.TotalSize).U64((ulong)drive.TotalFreeSpace));
    }

    private EmulatedDevice.RapiReply GetSpecialFolderPath(RequestReader r)
    {
        var folder = r.U32();
        r.U32(); // the host's buffer length
        if (folder != 5)
        {
            return new(Begin().U32(ErrorInvalidParameter).U32(0));
        }

        var path = device.Options.DocumentsFolder;
        return new(Begin().U32(0).U32((uint)path.Length + 1).Utf16(path, nul: true));
    }

    private EmulatedDevice.RapiReply ProcessConfig(RequestReader r)
    {
        var xml = OptionalPath(r) ?? "";
        var flags = r.U32();
        device.Counters.Count("process-config-bytes", xml.Length);
        device.Counters.Note($"process-config flags={flags} {xml}");
        const string reply = "<wap-provisioningdoc></wap-provisioningdoc>";
        var bytes = (uint)((reply.Length + 1) * 2);
        return Version == 2
            ? new(new ReplyWriter().U32(0).U32(0).U32(bytes).Utf16(reply, nul: true))
            : new(Begin().U32(0).U32(1).U32(bytes).U32(0).Utf16(reply, nul: true));
    }
}
