namespace Cradle.ActiveSync.Rapi;

/// <summary>The RAPI functions this host calls, with their command id in each version.</summary>
internal sealed record RapiCall(string Name, uint? Rapi1Id, uint Rapi2Id)
{
    public static readonly RapiCall ProcessConfig = new("CeProcessConfig", 0x56, 0x0E);
    public static readonly RapiCall FindAllFiles = new("CeFindAllFiles", 0x09, 0x1A);
    public static readonly RapiCall GetFileAttributes = new("CeGetFileAttributes", 0x03, 0x14);
    public static readonly RapiCall CreateFile = new("CeCreateFile", 0x05, 0x16);
    public static readonly RapiCall ReadFile = new("CeReadFile", 0x06, 0x17);
    public static readonly RapiCall WriteFile = new("CeWriteFile", 0x07, 0x18);
    public static readonly RapiCall CloseHandle = new("CeCloseHandle", 0x08, 0x19);
    public static readonly RapiCall SetFilePointer = new("CeSetFilePointer", 0x15, 0x26);
    public static readonly RapiCall CreateDirectory = new("CeCreateDirectory", 0x17, 0x28);
    public static readonly RapiCall RemoveDirectory = new("CeRemoveDirectory", 0x18, 0x29);
    public static readonly RapiCall DeleteFile = new("CeDeleteFile", 0x1C, 0x2D);

    // SynCE backend_ops_1/2 file_management: RAPI1 0x1A (where RAPI2 has CeFindAllFiles), RAPI2 0x2B.
    public static readonly RapiCall MoveFile = new("CeMoveFile", 0x1A, 0x2B);
    public static readonly RapiCall GetFileSize = new("CeGetFileSize", 0x1D, 0x2E);
    public static readonly RapiCall RegOpenKeyEx = new("CeRegOpenKeyEx", 0x1E, 0x2F);
    public static readonly RapiCall RegCreateKeyEx = new("CeRegCreateKeyEx", 0x20, 0x31);
    public static readonly RapiCall RegCloseKey = new("CeRegCloseKey", 0x21, 0x32);
    public static readonly RapiCall RegDeleteKey = new("CeRegDeleteKey", 0x22, 0x33);
    public static readonly RapiCall RegDeleteValue = new("CeRegDeleteValue", 0x24, 0x35);
    public static readonly RapiCall RegQueryValueEx = new("CeRegQueryValueEx", 0x26, 0x37);
    public static readonly RapiCall RegSetValueEx = new("CeRegSetValueEx", 0x27, 0x38);
    public static readonly RapiCall GetStoreInformation = new("CeGetStoreInformation", 0x29, 0x39);

    // SynCE lists 0x39/0x3A as RAPI1's CeGetFileTime/CeSetFileTime but never implemented them, so
    // no encoding is known: this host does not guess one (RapiClient says so instead).
    public static readonly RapiCall GetFileTime = new("CeGetFileTime", null, 0x41);
    public static readonly RapiCall SetFileTime = new("CeSetFileTime", null, 0x42);
    public static readonly RapiCall GetSpecialFolderPath = new("CeGetSpecialFolderPath", 0x44, 0x4B);
    public static readonly RapiCall GetDiskFreeSpaceEx = new("CeGetDiskFreeSpaceEx", null, 0x5C);

    public uint IdFor(RapiVersion version) => version switch
    {
        RapiVersion.Rapi2 => Rapi2Id,
        _ => Rapi1Id ?? throw new ActiveSyncNotSupportedException(
            $"{Name} has no known RAPI1 encoding (Windows CE 5.0 and earlier); SynCE never implemented it either"),
    };
}
