using System.Buffers.Binary;

namespace Cradle.ActiveSync.Rapi;

/// <summary>
/// The request of every RAPI call this host makes, in both versions. Argument order and encodings
/// are librapi2's (<c>backend_ops_1/*.c</c>, <c>backend_ops_2/*.c</c>); where RAPI1 orders its
/// arguments differently (CeCreateFile sends the path last) this follows it.
/// </summary>
internal static class RapiRequests
{
    public static byte[] FindAllFiles(RapiVersion v, string pattern, FindAllFilesFlags flags) =>
        RapiRequestWriter.Begin(v, RapiCall.FindAllFiles).String(pattern).U32((uint)flags).Finish();

    public static byte[] GetFileAttributes(RapiVersion v, string path) =>
        RapiRequestWriter.Begin(v, RapiCall.GetFileAttributes).String(path).Finish();

    public static byte[] CreateFile(RapiVersion v, string path, uint access, uint share, uint disposition, uint flagsAndAttributes)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.CreateFile);
        if (v == RapiVersion.Rapi2)
        {
            w.String(path);
        }

        w.U32(access).U32(share).U32(disposition).U32(flagsAndAttributes).U32(0);
        if (v == RapiVersion.Rapi1)
        {
            w.String(path);
        }

        return w.Finish();
    }

    public static byte[] ReadFile(RapiVersion v, CeFileHandle handle, uint count)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.ReadFile).U32(handle.Value);
        return (v == RapiVersion.Rapi2 ? w.U32(count) : w.OptionalOut(count).Null()).Finish();
    }

    public static byte[] WriteFile(RapiVersion v, CeFileHandle handle, ReadOnlySpan<byte> data)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.WriteFile, data.Length + 32).U32(handle.Value);
        return (v == RapiVersion.Rapi2 ? w.U32((uint)data.Length).Bytes(data) : w.OptionalIn(data).Null()).Finish();
    }

    public static byte[] CloseHandle(RapiVersion v, CeFileHandle handle) =>
        RapiRequestWriter.Begin(v, RapiCall.CloseHandle).U32(handle.Value).Finish();

    /// <summary>Moves the file pointer; <paramref name="method"/> is 0 = begin, 1 = current, 2 = end.</summary>
    public static byte[] SetFilePointer(RapiVersion v, CeFileHandle handle, long distance, uint method)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.SetFilePointer).U32(handle.Value).U32(unchecked((uint)distance));
        var high = unchecked((uint)(distance >> 32));
        return (v == RapiVersion.Rapi2 ? w.U32(1).U32(high) : w.U32(high)).U32(method).Finish();
    }

    public static byte[] GetFileTime(RapiVersion v, CeFileHandle handle) =>
        RapiRequestWriter.Begin(v, RapiCall.GetFileTime).U32(handle.Value).Finish();

    /// <summary>Each time is sent as its size (8) and the FILETIME, or 0 to leave it as it is.</summary>
    public static byte[] SetFileTime(RapiVersion v, CeFileHandle handle, CeFileTimes times)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.SetFileTime).U32(handle.Value);
        Span<byte> fileTime = stackalloc byte[8];
        foreach (var time in new[] { times.Creation, times.LastAccess, times.LastWrite })
        {
            if (time is { } value)
            {
                BinaryPrimitives.WriteInt64LittleEndian(fileTime, value);
                w.U32(8).Bytes(fileTime);
            }
            else
            {
                w.U32(0);
            }
        }

        return w.Finish();
    }

    /// <summary>The handle and an out-parameter for the high 32 bits (1, 4, 0) in both versions.</summary>
    public static byte[] GetFileSize(RapiVersion v, CeFileHandle handle) =>
        RapiRequestWriter.Begin(v, RapiCall.GetFileSize).U32(handle.Value).OptionalOut(4).Finish();

    public static byte[] CreateDirectory(RapiVersion v, string path)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.CreateDirectory).OptionalString(path);
        return (v == RapiVersion.Rapi1 ? w.Null() : w).Finish(); // RAPI1: lpSecurityAttributes = NULL
    }

    public static byte[] RemoveDirectory(RapiVersion v, string path) =>
        RapiRequestWriter.Begin(v, RapiCall.RemoveDirectory).OptionalString(path).Finish();

    public static byte[] DeleteFile(RapiVersion v, string path) =>
        RapiRequestWriter.Begin(v, RapiCall.DeleteFile).OptionalString(path).Finish();

    /// <summary>The existing name, then the new one (optional strings on RAPI1, plain ones on RAPI2).</summary>
    public static byte[] MoveFile(RapiVersion v, string existing, string target) =>
        RapiRequestWriter.Begin(v, RapiCall.MoveFile).OptionalString(existing).OptionalString(target).Finish();

    public static byte[] GetDiskFreeSpaceEx(RapiVersion v, string path) =>
        RapiRequestWriter.Begin(v, RapiCall.GetDiskFreeSpaceEx).String(path).Finish();

    public static byte[] GetStoreInformation(RapiVersion v)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.GetStoreInformation);
        return (v == RapiVersion.Rapi1 ? w.OptionalOut(8) : w).Finish();
    }

    /// <summary><paramref name="bufferLength"/> as SynCE's tools send it: sizeof(WCHAR[MAX_PATH]) = 520.</summary>
    public static byte[] GetSpecialFolderPath(RapiVersion v, int folder, uint bufferLength = 520) =>
        RapiRequestWriter.Begin(v, RapiCall.GetSpecialFolderPath).U32((uint)folder).U32(bufferLength).Finish();

    public static byte[] RegOpenKeyEx(RapiVersion v, CeRegistryKey key, string subKey) =>
        RapiRequestWriter.Begin(v, RapiCall.RegOpenKeyEx).U32(key.Handle).String(subKey).Finish();

    /// <summary>The class is sent as NULL, as SynCE's synce-registry does.</summary>
    public static byte[] RegCreateKeyEx(RapiVersion v, CeRegistryKey key, string subKey) =>
        RapiRequestWriter.Begin(v, RapiCall.RegCreateKeyEx).U32(key.Handle).String(subKey).String(null).Finish();

    public static byte[] RegCloseKey(RapiVersion v, CeRegistryKey key) =>
        RapiRequestWriter.Begin(v, RapiCall.RegCloseKey).U32(key.Handle).Finish();

    public static byte[] RegDeleteKey(RapiVersion v, CeRegistryKey key, string subKey) =>
        RapiRequestWriter.Begin(v, RapiCall.RegDeleteKey).U32(key.Handle).OptionalString(subKey).Finish();

    public static byte[] RegDeleteValue(RapiVersion v, CeRegistryKey key, string name) =>
        RapiRequestWriter.Begin(v, RapiCall.RegDeleteValue).U32(key.Handle).OptionalString(name).Finish();

    /// <summary>
    /// RAPI2: key, name, buffer size. RAPI1: key, name (optional string), lpReserved = NULL, lpType
    /// out (1,4,0), lpData out (1,size,0), lpcbData in/out (1,4,1,size).
    /// </summary>
    public static byte[] RegQueryValueEx(RapiVersion v, CeRegistryKey key, string name, uint bufferSize)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.RegQueryValueEx).U32(key.Handle).OptionalString(name);
        if (v == RapiVersion.Rapi2)
        {
            return w.U32(bufferSize).Finish();
        }

        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, bufferSize);
        return w.Null().OptionalOut(4).OptionalOut(bufferSize).Optional(size, 4, send: true).Finish();
    }

    /// <summary>RAPI2: key, name, type, size, data. RAPI1: key, name, type, (1,size,1,data), size.</summary>
    public static byte[] RegSetValueEx(RapiVersion v, CeRegistryKey key, string name, CeRegistryValue value)
    {
        var w = RapiRequestWriter.Begin(v, RapiCall.RegSetValueEx, value.Data.Length + 64).U32(key.Handle).OptionalString(name).U32((uint)value.Kind);
        return (v == RapiVersion.Rapi2
            ? w.U32((uint)value.Data.Length).Bytes(value.Data)
            : w.Optional(value.Data, (uint)value.Data.Length, send: true).U32((uint)value.Data.Length)).Finish();
    }

    /// <summary>CeProcessConfig: the XML document and its flags (1 = process it).</summary>
    public static byte[] ProcessConfig(RapiVersion v, string xml, uint flags) =>
        RapiRequestWriter.Begin(v, RapiCall.ProcessConfig, xml.Length * 2 + 32).OptionalString(xml).U32(flags).Finish();
}
