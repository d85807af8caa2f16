using Cradle.Protocol;

namespace Cradle.ActiveSync;

/// <summary>
/// The device sent bytes that break DCCM or RAPI: a length over its cap, a count its reply cannot
/// hold, a string that is not UTF-16, a file name with a separator or "..", a message out of turn.
/// The session ends; retrying the same device the same way fails the same way.
/// </summary>
public sealed class ActiveSyncProtocolException(string message, Exception? inner = null)
    : CradleException(message, isTransient: false, inner)
{
    internal static ActiveSyncProtocolException Malformed(string what, string problem) =>
        new($"malformed {what} from the device: {problem}");
}

/// <summary>
/// A RAPI call reached the device and the device answered that it failed (a missing file, a full
/// store, access denied). The session goes on; <see cref="Win32Error"/> says why.
/// </summary>
public sealed class RapiCallException(string call, uint win32Error, string? subject = null)
    : CradleException(Describe(call, win32Error, subject), isTransient: false)
{
    /// <summary>The RAPI function, e.g. <c>CeCreateFile</c>.</summary>
    public string Call { get; } = call;

    /// <summary>The device's error code: its GetLastError, a registry call's LONG, or a RAPI1 HRESULT.</summary>
    public uint Win32Error { get; } = win32Error;

    private static string Describe(string call, uint error, string? subject)
    {
        var what = subject is null ? call : $"{call}({DeviceText.Printable(subject)})";
        return $"{what} failed on the device: error {error} ({Win32Errors.Describe(error)})";
    }
}

/// <summary>
/// The device asked for something this host cannot give: a RAPI call that has no known encoding for
/// the device's RAPI version, a lock mode we do not speak. Not transient.
/// </summary>
public sealed class ActiveSyncNotSupportedException(string message)
    : CradleException(message, isTransient: false);
