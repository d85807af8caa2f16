using System.Buffers.Binary;

namespace Cradle.ActiveSync.Rapi;

/// <summary>
/// Decodes the replies of the calls in <see cref="RapiRequests"/>. A call the device says failed
/// throws <see cref="RapiCallException"/>; a reply that breaks the format (a count the reply cannot
/// hold, more bytes than were asked for, a hostile name) throws <see cref="ActiveSyncProtocolException"/>.
/// </summary>
internal static class RapiReplies
{
    /// <summary>Characters a file name may have (Windows CE's MAX_PATH).</summary>
    public const int MaxNameChars = 260;

    /// <summary>Characters of a path the device returns (CeGetSpecialFolderPath).</summary>
    public const int MaxPathChars = 1024;

    /// <summary>The largest registry value this host reads.</summary>
    public const int MaxRegistryValueBytes = 64 * 1024;

    /// <summary>The size of CE_FIND_DATA with its WCHAR[260] name, the most a find reply may carry per entry.</summary>
    public const int CeFindDataBytes = 40 + 520;

    public static IReadOnlyList<CeFindData> FindAllFiles(ReadOnlySpan<byte> body, RapiVersion v, FindAllFilesFlags flags, int maxEntries, string pattern)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.FindAllFiles, pattern);
        uint lastError = 0, result = 1;
        if (v == RapiVersion.Rapi2)
        {
            // librapi2 calls the word after last_error unknown; the devices we know of put the
            // call's BOOL there, as every other RAPI2 reply does.
            lastError = r.U32("last_error");
            result = r.U32("the result word");
        }

        var count = r.U32("the entry count");
        if (count == 0)
        {
            if (result == 0 && lastError != 0 && !Win32Errors.IsNotFound(lastError))
            {
                throw r.Failed(lastError);
            }

            return [];
        }

        if (count > (uint)maxEntries)
        {
            throw r.Fail($"it says {count} entries, more than the {maxEntries} this host accepts in one folder");
        }

        var perEntry = EntryBytes(flags);
        if ((ulong)count * (ulong)perEntry > (ulong)r.Remaining)
        {
            throw r.Fail($"it says {count} entries but holds {r.Remaining} bytes, too few for them");
        }

        var entries = new CeFindData[count];
        for (var i = 0; i < entries.Length; i++)
        {
            uint nameLength = 0;
            if ((flags & FindAllFilesFlags.Name) != 0)
            {
                nameLength = r.U32("a name's length");
            }

            var attributes = Has(flags, FindAllFilesFlags.Attributes) ? r.U32("attributes") : 0;
            var created = Has(flags, FindAllFilesFlags.CreationTime) ? r.FileTime("a creation time") : 0;
            var accessed = Has(flags, FindAllFilesFlags.LastAccessTime) ? r.FileTime("a last-access time") : 0;
            var written = Has(flags, FindAllFilesFlags.LastWriteTime) ? r.FileTime("a last-write time") : 0;
            var high = Has(flags, FindAllFilesFlags.SizeHigh) ? r.U32("a size's high word") : 0;
            var low = Has(flags, FindAllFilesFlags.SizeLow) ? r.U32("a size's low word") : 0;
            var oid = Has(flags, FindAllFilesFlags.Oid) ? r.U32("an object id") : 0;
            var name = string.Empty;
            if ((flags & FindAllFilesFlags.Name) != 0)
            {
                // RAPI2 counts the name in bytes, RAPI1 in characters (librapi2 _CeFindAllFiles[2]).
                name = v == RapiVersion.Rapi2
                    ? r.Utf16Bytes(nameLength, MaxNameChars * 2 + 2, "a file name")
                    : r.Utf16(nameLength, MaxNameChars + 1, "a file name");
                var problem = CePath.CheckName(name);
                if (problem is not null)
                {
                    throw r.Fail($"entry {i} of the listing of \"{DeviceText.Printable(pattern)}\" is named \"{DeviceText.Printable(name)}\": {problem}");
                }
            }

            entries[i] = new CeFindData(name, (CeFileAttributes)attributes, created, accessed, written, Size64(ref r, high, low, "a size"), oid);
        }

        return entries;
    }

    /// <summary>The attributes, or null when the file is not there.</summary>
    public static CeFileAttributes? GetFileAttributes(ReadOnlySpan<byte> body, RapiVersion v, string path)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.GetFileAttributes, path);
        var lastError = r.U32("last_error");
        var attributes = r.U32("the attributes");
        if (attributes != 0xFFFFFFFF)
        {
            return (CeFileAttributes)attributes;
        }

        return Win32Errors.IsNotFound(lastError) ? null : throw r.Failed(lastError);
    }

    public static CeFileHandle CreateFile(ReadOnlySpan<byte> body, RapiVersion v, string path)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.CreateFile, path);
        var lastError = r.U32("last_error");
        var handle = r.U32("the handle");
        return handle == CeFileHandle.InvalidValue ? throw r.Failed(lastError) : new CeFileHandle(handle);
    }

    /// <summary>Copies the bytes read into <paramref name="destination"/>; 0 means the end of the file.</summary>
    public static int ReadFile(ReadOnlySpan<byte> body, RapiVersion v, Span<byte> destination)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.ReadFile, null);
        var lastError = r.U32("last_error");
        if (r.U32("the result") == 0)
        {
            throw r.Failed(lastError);
        }

        var count = r.U32("the byte count");
        var data = r.Bytes(count, destination.Length, "the file data");
        data.CopyTo(destination);
        return data.Length;
    }

    public static int WriteFile(ReadOnlySpan<byte> body, RapiVersion v, int sent)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.WriteFile, null);
        var lastError = r.U32("last_error");
        if (r.U32("the result") == 0)
        {
            throw r.Failed(lastError);
        }

        var written = r.U32("the bytes written");
        return written > (uint)sent ? throw r.Fail($"it says {written} bytes were written of the {sent} sent") : (int)written;
    }

    /// <summary>The BOOL replies: CeCloseHandle, CeCreateDirectory, CeRemoveDirectory, CeDeleteFile, CeSetFileTime.</summary>
    public static void Bool(ReadOnlySpan<byte> body, RapiVersion v, RapiCall call, string? subject)
    {
        var r = RapiReplyReader.Start(body, v, call, subject);
        var lastError = r.U32("last_error");
        if (r.U32("the result") == 0)
        {
            throw r.Failed(lastError);
        }
    }

    public static long SetFilePointer(ReadOnlySpan<byte> body, RapiVersion v)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.SetFilePointer, null);
        var lastError = r.U32("last_error");
        var low = r.U32("the position");
        var high = v == RapiVersion.Rapi2 ? r.U32("the position's high word") : 0;
        if (low == 0xFFFFFFFF && lastError != 0)
        {
            throw r.Failed(lastError);
        }

        return Size64(ref r, high, low, "the position");
    }

    public static CeFileTimes GetFileTime(ReadOnlySpan<byte> body, RapiVersion v)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.GetFileTime, null);
        var lastError = r.U32("last_error");
        if (r.U32("the result") == 0)
        {
            throw r.Failed(lastError);
        }

        return new CeFileTimes(r.FileTime("the creation time"), r.FileTime("the last-access time"), r.FileTime("the last-write time"));
    }

    public static long GetFileSize(ReadOnlySpan<byte> body, RapiVersion v)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.GetFileSize, null);
        var lastError = r.U32("last_error");
        var low = r.U32("the size");
        var high = r.Optional(4, "the size's high word", out var present);
        if (low == 0xFFFFFFFF && lastError != 0)
        {
            throw r.Failed(lastError);
        }

        if (present && high.Length != 4)
        {
            throw r.Fail($"the size's high word is {high.Length} bytes, not 4");
        }

        return Size64(ref r, present ? BinaryPrimitives.ReadUInt32LittleEndian(high) : 0, low, "the size");
    }

    public static CeDiskSpace GetDiskFreeSpaceEx(ReadOnlySpan<byte> body, RapiVersion v, string path)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.GetDiskFreeSpaceEx, path);
        var lastError = r.U32("last_error");
        if (r.U32("the result") == 0)
        {
            throw r.Failed(lastError);
        }

        return new CeDiskSpace(U64(ref r, "the free bytes available"), U64(ref r, "the total bytes"), U64(ref r, "the total free bytes"));
    }

    public static CeStoreInformation GetStoreInformation(ReadOnlySpan<byte> body, RapiVersion v)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.GetStoreInformation, null);
        var lastError = r.U32("last_error");
        if (r.U32("the result") == 0)
        {
            throw r.Failed(lastError);
        }

        ReadOnlySpan<byte> info;
        if (v == RapiVersion.Rapi2)
        {
            info = r.Bytes(8, 8, "the store information");
        }
        else
        {
            info = r.Optional(8, "the store information", out var present);
            if (!present || info.Length != 8)
            {
                throw r.Fail("the store information is missing or not 8 bytes");
            }
        }

        return new CeStoreInformation(BinaryPrimitives.ReadUInt32LittleEndian(info), BinaryPrimitives.ReadUInt32LittleEndian(info[4..]));
    }

    public static string GetSpecialFolderPath(ReadOnlySpan<byte> body, RapiVersion v, int folder)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.GetSpecialFolderPath, $"CSIDL {folder}");
        var lastError = r.U32("last_error");
        var chars = r.U32("the path's length");
        if (chars == 0)
        {
            throw r.Failed(lastError);
        }

        return r.Utf16(chars, MaxPathChars, "the path");
    }

    /// <summary>The opened key, or null when it does not exist.</summary>
    public static CeRegistryKey? RegOpenKeyEx(ReadOnlySpan<byte> body, RapiVersion v, string subKey)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.RegOpenKeyEx, subKey);
        r.U32("last_error");
        var result = r.U32("the result");
        if (result == Win32Errors.FileNotFound)
        {
            return null;
        }

        return result != 0 ? throw r.Failed(result) : new CeRegistryKey(r.U32("the key"));
    }

    public static (CeRegistryKey Key, bool Created) RegCreateKeyEx(ReadOnlySpan<byte> body, RapiVersion v, string subKey)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.RegCreateKeyEx, subKey);
        r.U32("last_error");
        var result = r.U32("the result");
        if (result != 0)
        {
            throw r.Failed(result);
        }

        var key = new CeRegistryKey(r.U32("the key"));
        return (key, r.U32("the disposition") == 1);
    }

    /// <summary>The registry calls that answer only a LONG; false when the key or value was not there.</summary>
    public static bool RegResult(ReadOnlySpan<byte> body, RapiVersion v, RapiCall call, string? subject)
    {
        var r = RapiReplyReader.Start(body, v, call, subject);
        r.U32("last_error");
        var result = r.U32("the result");
        if (result == Win32Errors.FileNotFound)
        {
            return false;
        }

        return result == 0 ? true : throw r.Failed(result);
    }

    /// <summary>The value, or null when it does not exist.</summary>
    public static CeRegistryValue? RegQueryValueEx(ReadOnlySpan<byte> body, RapiVersion v, string name, uint bufferSize)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.RegQueryValueEx, name);
        r.U32("last_error");
        var result = r.U32("the result");
        if (result == Win32Errors.FileNotFound)
        {
            return null;
        }

        if (result != 0)
        {
            throw r.Failed(result);
        }

        var cap = (int)Math.Min(bufferSize, MaxRegistryValueBytes);
        if (v == RapiVersion.Rapi2)
        {
            var type = r.U32("the value type");
            var size = r.U32("the value size");
            return new CeRegistryValue((CeRegistryValueKind)type, r.Bytes(size, cap, "the value").ToArray());
        }

        var typeBytes = r.Optional(4, "the value type", out var hasType);
        var data = r.Optional(cap, "the value", out _).ToArray();
        var sizeBytes = r.Optional(4, "the value size", out var hasSize);
        if (!hasType || typeBytes.Length != 4)
        {
            throw r.Fail("the value type is missing");
        }

        if (hasSize && sizeBytes.Length == 4 && BinaryPrimitives.ReadUInt32LittleEndian(sizeBytes) < (uint)data.Length)
        {
            data = data[..(int)BinaryPrimitives.ReadUInt32LittleEndian(sizeBytes)];
        }

        return new CeRegistryValue((CeRegistryValueKind)BinaryPrimitives.ReadUInt32LittleEndian(typeBytes), data);
    }

    /// <summary>CeProcessConfig's reply XML. RAPI2: last_error, HRESULT, byte count, UTF-16. RAPI1: HRESULT, has-reply, size, a word, UTF-16.</summary>
    public static string ProcessConfig(ReadOnlySpan<byte> body, RapiVersion v, int cap)
    {
        var r = RapiReplyReader.Start(body, v, RapiCall.ProcessConfig, null);
        if (v == RapiVersion.Rapi2)
        {
            r.U32("last_error");
        }

        var hresult = r.U32("the HRESULT");
        if (hresult != 0)
        {
            throw r.Failed(hresult);
        }

        if (v == RapiVersion.Rapi1 && r.U32("the has-reply flag") == 0)
        {
            return string.Empty;
        }

        var size = r.U32("the reply's size");
        if (v == RapiVersion.Rapi1)
        {
            r.U32("the reply's second word");
        }

        return r.Utf16Bytes(size, cap, "the reply XML");
    }

    private static ulong U64(ref RapiReplyReader r, string field)
    {
        var low = r.U32(field);
        var high = r.U32(field);
        return ((ulong)high << 32) | low;
    }

    /// <summary>A 64-bit size or offset from two words; one past 2^63 is no file's.</summary>
    private static long Size64(ref RapiReplyReader r, uint high, uint low, string field)
    {
        var value = ((ulong)high << 32) | low;
        return value > long.MaxValue ? throw r.Fail($"{field} is {value} bytes, past what any file holds") : (long)value;
    }

    private static bool Has(FindAllFilesFlags flags, FindAllFilesFlags flag) => (flags & flag) != 0;

    /// <summary>The fewest bytes one entry of a find reply takes with these flags (a lying count cannot pass it).</summary>
    private static int EntryBytes(FindAllFilesFlags flags)
    {
        var bytes = 0;
        bytes += Has(flags, FindAllFilesFlags.Name) ? 4 : 0;
        bytes += Has(flags, FindAllFilesFlags.Attributes) ? 4 : 0;
        bytes += Has(flags, FindAllFilesFlags.CreationTime) ? 8 : 0;
        bytes += Has(flags, FindAllFilesFlags.LastAccessTime) ? 8 : 0;
        bytes += Has(flags, FindAllFilesFlags.LastWriteTime) ? 8 : 0;
        bytes += Has(flags, FindAllFilesFlags.SizeHigh) ? 4 : 0;
        bytes += Has(flags, FindAllFilesFlags.SizeLow) ? 4 : 0;
        bytes += Has(flags, FindAllFilesFlags.Oid) ? 4 : 0;
        return Math.Max(bytes, 1);
    }
}
