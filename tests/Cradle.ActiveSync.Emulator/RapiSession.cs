namespace Cradle.ActiveSync.Emulator;

/// <summary>
/// One RAPI connection's calls: handles it opened and the reply of every call, in the version the
/// device speaks. Replies are laid out as librapi2 reads them: RAPI2 last_error, result, results;
/// RAPI1 the same after a flag word of 0 (and CeFindAllFiles, CeProcessConfig without last_error).
/// </summary>
internal sealed partial class RapiSession(EmulatedDevice device, int version)
{
    public const uint ErrorFileNotFound = 2;
    public const uint ErrorPathNotFound = 3;
    public const uint ErrorAccessDenied = 5;
    public const uint ErrorInvalidHandle = 6;
    public const uint ErrorNoMoreFiles = 18;
    public const uint ErrorFileExists = 80;
    public const uint ErrorInvalidParameter = 87;
    public const uint ErrorCallNotImplemented = 120;
    public const uint ErrorDirNotEmpty = 145;
    public const uint ErrorAlreadyExists = 183;
    public const uint ErrorMoreData = 234;
    public const uint Invalid = 0xFFFFFFFF;

    private readonly Dictionary<uint, FileStream> _files = [];
    private readonly Dictionary<uint, (List<string> Entries, int Next)> _finds = [];
    private uint _nextHandle = 0x100;

    public int Version { get; } = version;

    private EmulatorFaults Faults => device.Faults;

    private EmulatedFileSystem Fs => device.FileSystem;

    public EmulatedDevice.RapiReply Handle(string call, RequestReader r) => call switch
    {
        "CeFindAllFiles" => FindAllFiles(r),
        "CeFindFirstFile" => FindFirstFile(r),
        "CeFindNextFile" => FindNextFile(r),
        "CeFindClose" => FindClose(r),
        "CeGetFileAttributes" => GetFileAttributes(r),
        "CeCreateFile" => CreateFile(r),
        "CeReadFile" => ReadFile(r),
        "CeWriteFile" => WriteFile(r),
        "CeCloseHandle" => CloseHandle(r),
        "CeSetFilePointer" => SetFilePointer(r),
        "CeGetFileSize" => GetFileSize(r),
        "CeGetFileTime" => GetFileTime(r),
        "CeSetFileTime" => SetFileTime(r),
        "CeCreateDirectory" => CreateDirectory(r),
        "CeRemoveDirectory" => RemoveDirectory(r),
        "CeDeleteFile" => DeleteFile(r),
        "CeMoveFile" => MoveFile(r),
        "CeGetStoreInformation" => GetStoreInformation(r),
        "CeGetDiskFreeSpaceEx" => GetDiskFreeSpaceEx(r),
        "CeGetSpecialFolderPath" => GetSpecialFolderPath(r),
        "CeProcessConfig" => ProcessConfig(r),
        "CeRegOpenKeyEx" => RegOpenKeyEx(r),
        "CeRegCreateKeyEx" => RegCreateKeyEx(r),
        "CeRegCloseKey" => RegCloseKey(r),
        "CeRegDeleteKey" => RegDeleteKey(r),
        "CeRegDeleteValue" => RegDeleteValue(r),
        "CeRegQueryValueEx" => RegQueryValueEx(r),
        "CeRegSetValueEx" => RegSetValueEx(r),
        "CeRegEnumKeyEx" => RegEnumKeyEx(r),
        "CeRegEnumValue" => RegEnumValue(r),
        "CeRegQueryInfoKey" => RegQueryInfoKey(r),
        _ => NotImplemented(),
    };

    public void CloseAll()
    {
        foreach (var file in _files.Values)
        {
            file.Dispose();
            device.Counters.Open(-1);
        }

        _files.Clear();
        _finds.Clear();
    }

    /// <summary>
    /// A call this device does not know gets a short, clear failure: a client that reads "success"
    /// out of a malformed reply can loop (learnt in the lab run against SynCE).
    /// </summary>
    private EmulatedDevice.RapiReply NotImplemented()
    {
        var w = new ReplyWriter();
        if (Version == 1)
        {
            return new(w.U32(1).U32(0x80004001)); // E_NOTIMPL
        }

        return new(w.U32(ErrorCallNotImplemented).U32(0));
    }

    private ReplyWriter Begin()
    {
        var w = new ReplyWriter();
        if (Version == 1)
        {
            w.U32(0);
        }

        return w;
    }

    private EmulatedDevice.RapiReply Result(uint lastError, uint result) => new(Begin().U32(lastError).U32(result));

    private EmulatedDevice.RapiReply Bool(uint lastError) => Result(lastError, lastError == 0 ? 1u : 0u);

    private string? Path(RequestReader r) => Version == 2 ? r.String2() : r.String1();

    private string? OptionalPath(RequestReader r) => Version == 2 ? r.String2() : r.OptionalString();
}
