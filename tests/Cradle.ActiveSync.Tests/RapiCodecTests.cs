using System.Text;
using Cradle.ActiveSync.Emulator;
using Cradle.ActiveSync.Rapi;

namespace Cradle.ActiveSync.Tests;

/// <summary>
/// Our encoders and decoders against the emulator's, which were written separately from the wire
/// notes, in memory (no sockets): every call one way and back, in both RAPI versions.
/// </summary>
public sealed class RapiCodecTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly EmulatedDevice _device;

    public RapiCodecTests()
    {
        _device = new EmulatedDevice(new EmulatorOptions { FilesRoot = _temp["device"], RegistryFile = _temp["registry.json"], StorageCards = ["Storage Card"] });
        Directory.CreateDirectory(_temp[@"device/My Documents/sub"]);
        Directory.CreateDirectory(_temp[@"device/Storage Card"]);
        File.WriteAllBytes(_temp["device/My Documents/a.txt"], TestData.Bytes(1, 5000));
        File.SetLastWriteTimeUtc(_temp["device/My Documents/a.txt"], new DateTime(2023, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        File.WriteAllBytes(_temp["device/My Documents/.hidden"], [1]);
    }

    public void Dispose() => _temp.Dispose();

    public static TheoryData<RapiVersion> Versions => new() { RapiVersion.Rapi1, RapiVersion.Rapi2 };

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_listing_carries_names_attributes_sizes_and_times(RapiVersion v)
    {
        var session = Session(v);
        var entries = Call(session, "CeFindAllFiles", RapiRequests.FindAllFiles(v, @"\My Documents\*.*", FindAllFilesFlags.ForBackup),
            body => RapiReplies.FindAllFiles(body, v, FindAllFilesFlags.ForBackup, 1000, "p"));

        Assert.Equal(new[] { ".hidden", "a.txt", "sub" }, entries.Select(e => e.Name));
        var file = entries.Single(e => e.Name == "a.txt");
        Assert.Equal(5000, file.Size);
        Assert.Equal(new DateTime(2023, 5, 6, 7, 8, 9, DateTimeKind.Utc).ToFileTimeUtc(), file.LastWriteTime);
        Assert.Equal(CeFileAttributes.Archive, file.Attributes);
        Assert.True(entries.Single(e => e.Name == "sub").IsDirectory);
        Assert.Equal(CeFileAttributes.Archive | CeFileAttributes.Hidden, entries.Single(e => e.Name == ".hidden").Attributes);

        var visible = Call(session, "CeFindAllFiles", RapiRequests.FindAllFiles(v, @"\My Documents\*.*", FindAllFilesFlags.ForBackup | FindAllFilesFlags.NoHiddenFiles),
            body => RapiReplies.FindAllFiles(body, v, FindAllFilesFlags.ForBackup | FindAllFilesFlags.NoHiddenFiles, 1000, "p"));
        Assert.DoesNotContain(visible, e => e.Name == ".hidden");
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_listing_of_nothing_is_empty_not_an_error(RapiVersion v)
    {
        var entries = Call(Session(v), "CeFindAllFiles", RapiRequests.FindAllFiles(v, @"\Nowhere\*.*", FindAllFilesFlags.ForBackup),
            body => RapiReplies.FindAllFiles(body, v, FindAllFilesFlags.ForBackup, 1000, "p"));
        Assert.Empty(entries);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_file_is_opened_read_sized_and_closed(RapiVersion v)
    {
        var session = Session(v);
        var handle = Call(session, "CeCreateFile", RapiRequests.CreateFile(v, @"\My Documents\A.TXT", CeFileAccess.GenericRead, 1, CeFileAccess.OpenExisting, 0x80),
            body => RapiReplies.CreateFile(body, v, "p"));
        var buffer = new byte[8000];
        var n = Call(session, "CeReadFile", RapiRequests.ReadFile(v, handle, 8000), body => RapiReplies.ReadFile(body, v, buffer));
        var size = Call(session, "CeGetFileSize", RapiRequests.GetFileSize(v, handle), body => RapiReplies.GetFileSize(body, v));
        var position = Call(session, "CeSetFilePointer", RapiRequests.SetFilePointer(v, handle, 10, 0), body => RapiReplies.SetFilePointer(body, v));
        Call(session, "CeCloseHandle", RapiRequests.CloseHandle(v, handle), body => { RapiReplies.Bool(body, v, RapiCall.CloseHandle, null); return 0; });

        Assert.Equal(5000, n);
        Assert.Equal(TestData.Bytes(1, 5000), buffer[..5000]);
        Assert.Equal(5000, size);
        Assert.Equal(10, position);
        var e = Assert.Throws<RapiCallException>(() => Call(session, "CeCloseHandle", RapiRequests.CloseHandle(v, handle), body => { RapiReplies.Bool(body, v, RapiCall.CloseHandle, null); return 0; }));
        Assert.Equal(Win32Errors.InvalidHandle, e.Win32Error);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_missing_file_is_a_call_error_with_its_code(RapiVersion v)
    {
        var e = Assert.Throws<RapiCallException>(() => Call(Session(v), "CeCreateFile", RapiRequests.CreateFile(v, @"\My Documents\none", CeFileAccess.GenericRead, 1, CeFileAccess.OpenExisting, 0x80),
            body => RapiReplies.CreateFile(body, v, @"\My Documents\none")));
        Assert.Equal(Win32Errors.FileNotFound, e.Win32Error);
        Assert.Contains(@"CeCreateFile(\My Documents\none)", e.Message, StringComparison.Ordinal);
        Assert.Null(Call(Session(v), "CeGetFileAttributes", RapiRequests.GetFileAttributes(v, @"\none"), body => RapiReplies.GetFileAttributes(body, v, "p")));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Files_and_folders_are_written_made_and_removed(RapiVersion v)
    {
        var session = Session(v);
        Call(session, "CeCreateDirectory", RapiRequests.CreateDirectory(v, @"\My Documents\new"), body => { RapiReplies.Bool(body, v, RapiCall.CreateDirectory, null); return 0; });
        var handle = Call(session, "CeCreateFile", RapiRequests.CreateFile(v, @"\My Documents\new\b.bin", CeFileAccess.GenericWrite, 0, CeFileAccess.CreateAlways, 0x80),
            body => RapiReplies.CreateFile(body, v, "p"));
        var written = Call(session, "CeWriteFile", RapiRequests.WriteFile(v, handle, "hello"u8), body => RapiReplies.WriteFile(body, v, 5));
        Call(session, "CeCloseHandle", RapiRequests.CloseHandle(v, handle), body => { RapiReplies.Bool(body, v, RapiCall.CloseHandle, null); return 0; });

        Assert.Equal(5, written);
        Assert.Equal("hello"u8.ToArray(), File.ReadAllBytes(_temp["device/My Documents/new/b.bin"]));

        var notEmpty = Assert.Throws<RapiCallException>(() => Call(session, "CeRemoveDirectory", RapiRequests.RemoveDirectory(v, @"\My Documents\new"), body => { RapiReplies.Bool(body, v, RapiCall.RemoveDirectory, null); return 0; }));
        Assert.Equal(Win32Errors.DirNotEmpty, notEmpty.Win32Error);
        Call(session, "CeDeleteFile", RapiRequests.DeleteFile(v, @"\My Documents\new\b.bin"), body => { RapiReplies.Bool(body, v, RapiCall.DeleteFile, null); return 0; });
        Call(session, "CeRemoveDirectory", RapiRequests.RemoveDirectory(v, @"\My Documents\new"), body => { RapiReplies.Bool(body, v, RapiCall.RemoveDirectory, null); return 0; });
        Assert.False(Directory.Exists(_temp["device/My Documents/new"]));
    }

    [Fact]
    public void Rapi2_sets_and_gets_file_times()
    {
        const RapiVersion v = RapiVersion.Rapi2;
        var session = Session(v);
        var handle = Call(session, "CeCreateFile", RapiRequests.CreateFile(v, @"\My Documents\a.txt", CeFileAccess.GenericWrite, 0, CeFileAccess.OpenExisting, 0x80), body => RapiReplies.CreateFile(body, v, "p"));
        var when = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc).ToFileTimeUtc();
        Call(session, "CeSetFileTime", RapiRequests.SetFileTime(v, handle, new CeFileTimes(when - 10_000_000, null, when)), body => { RapiReplies.Bool(body, v, RapiCall.SetFileTime, null); return 0; });
        var times = Call(session, "CeGetFileTime", RapiRequests.GetFileTime(v, handle), body => RapiReplies.GetFileTime(body, v));

        Assert.Equal(when, times.LastWrite);
        Assert.Equal(when - 10_000_000, times.Creation);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Free_space_and_the_documents_folder_are_answered(RapiVersion v)
    {
        var session = Session(v);
        var store = Call(session, "CeGetStoreInformation", RapiRequests.GetStoreInformation(v), body => RapiReplies.GetStoreInformation(body, v));
        Assert.True(store.StoreSize > 0 && store.FreeSize <= store.StoreSize);
        Assert.Equal(@"\My Documents", Call(session, "CeGetSpecialFolderPath", RapiRequests.GetSpecialFolderPath(v, 5), body => RapiReplies.GetSpecialFolderPath(body, v, 5)));
        if (v == RapiVersion.Rapi2)
        {
            var space = Call(session, "CeGetDiskFreeSpaceEx", RapiRequests.GetDiskFreeSpaceEx(v, @"\Storage Card"), body => RapiReplies.GetDiskFreeSpaceEx(body, v, "p"));
            Assert.True(space.TotalBytes > 0 && space.FreeBytesAvailable <= space.TotalBytes);
        }
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Registry_keys_and_values_round_trip(RapiVersion v)
    {
        var session = Session(v);
        var (key, created) = Call(session, "CeRegCreateKeyEx", RapiRequests.RegCreateKeyEx(v, CeRegistryKey.LocalMachine, @"Software\Cradle\Test"), body => RapiReplies.RegCreateKeyEx(body, v, "k"));
        Assert.True(created);
        foreach (var value in new[] { CeRegistryValue.FromDWord(0xCAFE), CeRegistryValue.FromString("Pocket_PC"), new CeRegistryValue(CeRegistryValueKind.Binary, [1, 2, 3]) })
        {
            Call(session, "CeRegSetValueEx", RapiRequests.RegSetValueEx(v, key, "V", value), body => RapiReplies.RegResult(body, v, RapiCall.RegSetValueEx, "V"));
            var read = Call(session, "CeRegQueryValueEx", RapiRequests.RegQueryValueEx(v, key, "V", 256), body => RapiReplies.RegQueryValueEx(body, v, "V", 256));
            Assert.Equal(value, read);
        }

        Assert.Null(Call(session, "CeRegQueryValueEx", RapiRequests.RegQueryValueEx(v, key, "none", 256), body => RapiReplies.RegQueryValueEx(body, v, "none", 256)));
        Assert.True(Call(session, "CeRegDeleteValue", RapiRequests.RegDeleteValue(v, key, "V"), body => RapiReplies.RegResult(body, v, RapiCall.RegDeleteValue, "V")));
        Assert.False(Call(session, "CeRegDeleteValue", RapiRequests.RegDeleteValue(v, key, "V"), body => RapiReplies.RegResult(body, v, RapiCall.RegDeleteValue, "V")));
        Call(session, "CeRegCloseKey", RapiRequests.RegCloseKey(v, key), body => RapiReplies.RegResult(body, v, RapiCall.RegCloseKey, null));
        Assert.NotNull(Call(session, "CeRegOpenKeyEx", RapiRequests.RegOpenKeyEx(v, CeRegistryKey.LocalMachine, @"software\cradle\test"), body => RapiReplies.RegOpenKeyEx(body, v, "k")));
        Assert.True(Call(session, "CeRegDeleteKey", RapiRequests.RegDeleteKey(v, CeRegistryKey.LocalMachine, @"Software\Cradle"), body => RapiReplies.RegResult(body, v, RapiCall.RegDeleteKey, "k")));
        Assert.Null(Call(session, "CeRegOpenKeyEx", RapiRequests.RegOpenKeyEx(v, CeRegistryKey.LocalMachine, @"Software\Cradle\Test"), body => RapiReplies.RegOpenKeyEx(body, v, "k")));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_configuration_document_is_processed_and_its_reply_read(RapiVersion v)
    {
        var reply = Call(Session(v), "CeProcessConfig", RapiRequests.ProcessConfig(v, "<wap-provisioningdoc/>", 1), body => RapiReplies.ProcessConfig(body, v, 4096));
        Assert.Equal("<wap-provisioningdoc></wap-provisioningdoc>", reply);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void An_unknown_call_gets_a_short_clear_failure(RapiVersion v)
    {
        var reply = Session(v).Handle("CeSomethingNew", new RequestReader([])).Body.ToArray();
        var e = Assert.Throws<RapiCallException>(() => RapiReplies.Bool(reply, v, RapiCall.DeleteFile, null));
        Assert.Equal(v == RapiVersion.Rapi2 ? Win32Errors.CallNotImplemented : 0x80004001u, e.Win32Error);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Names_sent_without_their_NUL_decode_the_same(RapiVersion v)
    {
        _device.Faults.NamesWithoutNul = true;
        var entries = Call(Session(v), "CeFindAllFiles", RapiRequests.FindAllFiles(v, @"\My Documents\*.*", FindAllFilesFlags.ForBackup),
            body => RapiReplies.FindAllFiles(body, v, FindAllFilesFlags.ForBackup, 1000, "p"));
        Assert.Equal(new[] { ".hidden", "a.txt", "sub" }, entries.Select(e => e.Name));
    }

    /// <summary>Cut anywhere, a valid reply is refused as malformed (or decodes), and never throws anything else.</summary>
    [Theory]
    [MemberData(nameof(Versions))]
    public void Every_truncated_reply_is_a_protocol_error_never_another_exception(RapiVersion v)
    {
        var session = Session(v);
        var handle = Call(session, "CeCreateFile", RapiRequests.CreateFile(v, @"\My Documents\a.txt", CeFileAccess.GenericRead, 1, CeFileAccess.OpenExisting, 0x80), body => RapiReplies.CreateFile(body, v, "p"));
        var (key, _) = Call(session, "CeRegCreateKeyEx", RapiRequests.RegCreateKeyEx(v, CeRegistryKey.LocalMachine, "K"), body => RapiReplies.RegCreateKeyEx(body, v, "k"));
        Call(session, "CeRegSetValueEx", RapiRequests.RegSetValueEx(v, key, "V", CeRegistryValue.FromString("text")), body => RapiReplies.RegResult(body, v, RapiCall.RegSetValueEx, "V"));
        var cases = new (string Call, byte[] Request, Action<byte[]> Decode)[]
        {
            ("CeFindAllFiles", RapiRequests.FindAllFiles(v, @"\My Documents\*.*", FindAllFilesFlags.ForBackup), b => RapiReplies.FindAllFiles(b, v, FindAllFilesFlags.ForBackup, 1000, "p")),
            ("CeReadFile", RapiRequests.ReadFile(v, handle, 100), b => RapiReplies.ReadFile(b, v, new byte[100])),
            ("CeGetFileSize", RapiRequests.GetFileSize(v, handle), b => RapiReplies.GetFileSize(b, v)),
            ("CeGetStoreInformation", RapiRequests.GetStoreInformation(v), b => RapiReplies.GetStoreInformation(b, v)),
            ("CeGetSpecialFolderPath", RapiRequests.GetSpecialFolderPath(v, 5), b => RapiReplies.GetSpecialFolderPath(b, v, 5)),
            ("CeRegQueryValueEx", RapiRequests.RegQueryValueEx(v, key, "V", 256), b => RapiReplies.RegQueryValueEx(b, v, "V", 256)),
            ("CeRegOpenKeyEx", RapiRequests.RegOpenKeyEx(v, CeRegistryKey.LocalMachine, "K"), b => RapiReplies.RegOpenKeyEx(b, v, "K")),
            ("CeProcessConfig", RapiRequests.ProcessConfig(v, "<a/>", 1), b => RapiReplies.ProcessConfig(b, v, 4096)),
        };

        foreach (var (call, request, decode) in cases)
        {
            var reply = session.Handle(call, new RequestReader(request[8..])).Body.ToArray();
            decode(reply);
            for (var length = 0; length < reply.Length; length++)
            {
                var cut = reply[..length];
                var e = Record.Exception(() => decode(cut));
                Assert.True(e is null or ActiveSyncProtocolException or RapiCallException, $"{call} cut to {length} bytes threw {e?.GetType().Name}: {e?.Message}");
            }

            // Bytes flipped one at a time: still only our two exception types.
            for (var i = 0; i < reply.Length; i++)
            {
                var flipped = (byte[])reply.Clone();
                flipped[i] ^= 0xFF;
                var e = Record.Exception(() => decode(flipped));
                Assert.True(e is null or ActiveSyncProtocolException or RapiCallException, $"{call} with byte {i} flipped threw {e?.GetType().Name}: {e?.Message}");
            }
        }
    }

    private RapiSession Session(RapiVersion v) => new(_device, (int)v);

    private static T Call<T>(RapiSession session, string call, byte[] request, Func<byte[], T> decode) =>
        decode(session.Handle(call, new RequestReader(request[8..])).Body.ToArray());
}
