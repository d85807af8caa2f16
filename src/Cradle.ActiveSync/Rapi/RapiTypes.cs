namespace Cradle.ActiveSync.Rapi;

/// <summary>Windows CE file attributes (<c>rapitypes.h</c>).</summary>
[Flags]
public enum CeFileAttributes : uint
{
    None = 0,
    ReadOnly = 0x1,
    Hidden = 0x2,
    System = 0x4,
    Directory = 0x10,
    Archive = 0x20,
    InRom = 0x40,
    Normal = 0x80,

    /// <summary>On a folder in the root: a storage card (how Windows CE marks mounted volumes).</summary>
    Temporary = 0x100,
    Compressed = 0x800,
    RomStaticRef = 0x1000,
    RomModule = 0x2000,
}

/// <summary>Which fields a CeFindAllFiles reply carries for each entry (FAF_*), and filters.</summary>
[Flags]
public enum FindAllFilesFlags : uint
{
    Attributes = 0x1,
    CreationTime = 0x2,
    LastAccessTime = 0x4,
    LastWriteTime = 0x8,
    SizeHigh = 0x10,
    SizeLow = 0x20,
    Oid = 0x40,
    Name = 0x80,
    AttribChildren = 0x1000,
    NoHiddenFiles = 0x2000,
    FoldersOnly = 0x4000,
    NoHiddenSystemRomModules = 0x8000,

    /// <summary>What a backup needs: attributes, every time, the size and the name.</summary>
    ForBackup = Attributes | CreationTime | LastAccessTime | LastWriteTime | SizeHigh | SizeLow | Name,
}

/// <summary>
/// One entry of a folder listing. Times are FILETIMEs (100 ns ticks since 1601, UTC as the device
/// keeps them); fields the request did not ask for are 0. <see cref="Name"/> is one checked name.
/// </summary>
public sealed record CeFindData(string Name, CeFileAttributes Attributes, long CreationTime, long LastAccessTime, long LastWriteTime, long Size, uint Oid)
{
    public bool IsDirectory => (Attributes & CeFileAttributes.Directory) != 0;
}

/// <summary>A file's three times as FILETIMEs; null where a set-call leaves a time as it is.</summary>
public sealed record CeFileTimes(long? Creation, long? LastAccess, long? LastWrite);

/// <summary>CeGetDiskFreeSpaceEx's answer.</summary>
public sealed record CeDiskSpace(ulong FreeBytesAvailable, ulong TotalBytes, ulong TotalFreeBytes);

/// <summary>CeGetStoreInformation's answer: the object store (RAM file system) only.</summary>
public sealed record CeStoreInformation(uint StoreSize, uint FreeSize);

/// <summary>An open file on the device, valid in the RAPI session that opened it.</summary>
public readonly record struct CeFileHandle(uint Value)
{
    public const uint InvalidValue = 0xFFFFFFFF;

    public override string ToString() => $"0x{Value:X8}";
}

/// <summary>A registry key on the device: a predefined root or one a session opened.</summary>
public readonly record struct CeRegistryKey(uint Handle)
{
    public static readonly CeRegistryKey ClassesRoot = new(0x80000000);
    public static readonly CeRegistryKey CurrentUser = new(0x80000001);
    public static readonly CeRegistryKey LocalMachine = new(0x80000002);
    public static readonly CeRegistryKey Users = new(0x80000003);

    public bool IsPredefined => Handle >= 0x80000000 && Handle <= 0x80000003;

    public override string ToString() => $"0x{Handle:X8}";
}

/// <summary>Registry value types (REG_*).</summary>
public enum CeRegistryValueKind : uint
{
    None = 0,
    String = 1,
    ExpandString = 2,
    Binary = 3,
    DWord = 4,
    MultiString = 7,
}

/// <summary>CeCreateFile's access, share and disposition words.</summary>
public static class CeFileAccess
{
    public const uint GenericRead = 0x80000000;
    public const uint GenericWrite = 0x40000000;
    public const uint ShareRead = 0x1;
    public const uint ShareWrite = 0x2;
    public const uint CreateNew = 1;
    public const uint CreateAlways = 2;
    public const uint OpenExisting = 3;
    public const uint OpenAlways = 4;
    public const uint AttributeNormal = 0x80;
}

/// <summary>CSIDL numbers of CeGetSpecialFolderPath.</summary>
public static class CeSpecialFolder
{
    /// <summary>"My Documents" (CSIDL_PERSONAL).</summary>
    public const int Personal = 5;
}
