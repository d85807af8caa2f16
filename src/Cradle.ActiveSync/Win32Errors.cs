namespace Cradle.ActiveSync;

/// <summary>The Win32 error codes a Windows CE device answers RAPI calls with, and words for them.</summary>
public static class Win32Errors
{
    public const uint Success = 0;
    public const uint FileNotFound = 2;
    public const uint PathNotFound = 3;
    public const uint AccessDenied = 5;
    public const uint InvalidHandle = 6;
    public const uint NotEnoughMemory = 8;
    public const uint NoMoreFiles = 18;
    public const uint WriteProtect = 19;
    public const uint SharingViolation = 32;
    public const uint HandleDiskFull = 39;
    public const uint NotSupported = 50;
    public const uint FileExists = 80;
    public const uint InvalidParameter = 87;
    public const uint CallNotImplemented = 120;
    public const uint InsufficientBuffer = 122;
    public const uint InvalidName = 123;
    public const uint DirNotEmpty = 145;
    public const uint AlreadyExists = 183;
    public const uint MoreData = 234;
    public const uint NoMoreItems = 259;
    public const uint DiskFull = 112;

    /// <summary>True for the answers that mean "it is not there".</summary>
    public static bool IsNotFound(uint error) => error is FileNotFound or PathNotFound or NoMoreFiles;

    public static string Describe(uint error) => error switch
    {
        Success => "no error code given",
        FileNotFound => "the file was not found",
        PathNotFound => "the folder was not found",
        AccessDenied => "access denied; a RAPI policy may restrict it",
        InvalidHandle => "invalid handle",
        NotEnoughMemory => "the device is out of memory",
        NoMoreFiles => "no more files",
        WriteProtect => "the media is write-protected",
        SharingViolation => "the file is in use on the device",
        HandleDiskFull or DiskFull => "the device's store is full",
        NotSupported => "not supported",
        FileExists or AlreadyExists => "it already exists",
        InvalidParameter => "invalid parameter",
        CallNotImplemented => "the device does not implement this call",
        InsufficientBuffer => "the buffer was too small",
        InvalidName => "invalid name",
        DirNotEmpty => "the folder is not empty",
        MoreData => "more data is available",
        NoMoreItems => "no more items",
        _ when (error & 0x80000000) != 0 => $"HRESULT 0x{error:X8}",
        _ => "Win32 error",
    };
}
