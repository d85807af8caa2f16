namespace Cradle.ActiveSync.Rapi;

/// <summary>The registry calls a partnership needs.</summary>
public sealed partial class RapiClient
{
    /// <summary>Opens a key, or returns null when it does not exist.</summary>
    public async ValueTask<CeRegistryKey?> RegOpenKeyAsync(CeRegistryKey parent, string subKey, CancellationToken cancellationToken = default) =>
        await (await SendRegOpenKeyAsync(parent, subKey, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>
    /// The <c>Send</c> calls write their request and return, once it is on the wire, the task of
    /// its reply: a caller sends several calls that do not depend on each other's replies in one
    /// round trip, in the order it sends them (the device answers in that order too).
    /// </summary>
    internal ValueTask<Task<CeRegistryKey?>> SendRegOpenKeyAsync(CeRegistryKey parent, string subKey, CancellationToken cancellationToken)
    {
        var v = Version;
        return SendAsync(RapiCall.RegOpenKeyEx, RapiRequests.RegOpenKeyEx(v, parent, subKey), SmallReply,
            body => RapiReplies.RegOpenKeyEx(body, v, subKey), cancellationToken);
    }

    /// <summary>Opens a key, creating it (and the keys above it) when it does not exist.</summary>
    public async ValueTask<(CeRegistryKey Key, bool Created)> RegCreateKeyAsync(CeRegistryKey parent, string subKey, CancellationToken cancellationToken = default) =>
        await (await SendRegCreateKeyAsync(parent, subKey, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    internal ValueTask<Task<(CeRegistryKey Key, bool Created)>> SendRegCreateKeyAsync(CeRegistryKey parent, string subKey, CancellationToken cancellationToken)
    {
        var v = Version;
        return SendAsync(RapiCall.RegCreateKeyEx, RapiRequests.RegCreateKeyEx(v, parent, subKey), SmallReply,
            body => RapiReplies.RegCreateKeyEx(body, v, subKey), cancellationToken);
    }

    /// <summary>A value, or null when it does not exist. <paramref name="maxBytes"/> bounds what the device may send.</summary>
    public async ValueTask<CeRegistryValue?> RegQueryValueAsync(CeRegistryKey key, string name, int maxBytes = 4096, CancellationToken cancellationToken = default) =>
        await (await SendRegQueryValueAsync(key, name, maxBytes, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    internal ValueTask<Task<CeRegistryValue?>> SendRegQueryValueAsync(CeRegistryKey key, string name, int maxBytes, CancellationToken cancellationToken)
    {
        if (maxBytes < 1 || maxBytes > RapiReplies.MaxRegistryValueBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, $"a registry value is read with a buffer of 1 to {RapiReplies.MaxRegistryValueBytes} bytes");
        }

        var v = Version;
        return SendAsync(RapiCall.RegQueryValueEx, RapiRequests.RegQueryValueEx(v, key, name, (uint)maxBytes), SmallReply + maxBytes,
            body => RapiReplies.RegQueryValueEx(body, v, name, (uint)maxBytes), cancellationToken);
    }

    public async ValueTask RegSetValueAsync(CeRegistryKey key, string name, CeRegistryValue value, CancellationToken cancellationToken = default) =>
        await (await SendRegSetValueAsync(key, name, value, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    internal ValueTask<Task<bool>> SendRegSetValueAsync(CeRegistryKey key, string name, CeRegistryValue value, CancellationToken cancellationToken)
    {
        if (value.Data.Length > RapiReplies.MaxRegistryValueBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value.Data.Length, $"a registry value has at most {RapiReplies.MaxRegistryValueBytes} bytes");
        }

        var v = Version;
        return SendAsync(RapiCall.RegSetValueEx, RapiRequests.RegSetValueEx(v, key, name, value), SmallReply,
            body => RapiReplies.RegResult(body, v, RapiCall.RegSetValueEx, name) ? true : throw new RapiCallException(RapiCall.RegSetValueEx.Name, Win32Errors.FileNotFound, name),
            cancellationToken);
    }

    public async ValueTask RegCloseKeyAsync(CeRegistryKey key, CancellationToken cancellationToken = default) =>
        await (await SendRegCloseKeyAsync(key, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    internal ValueTask<Task<bool>> SendRegCloseKeyAsync(CeRegistryKey key, CancellationToken cancellationToken)
    {
        if (key.IsPredefined)
        {
            return ValueTask.FromResult(Task.FromResult(true));
        }

        var v = Version;
        return SendAsync(RapiCall.RegCloseKey, RapiRequests.RegCloseKey(v, key), SmallReply,
            body => RapiReplies.RegResult(body, v, RapiCall.RegCloseKey, null), cancellationToken);
    }

    /// <summary>Deletes a value; false when it was not there.</summary>
    public ValueTask<bool> RegDeleteValueAsync(CeRegistryKey key, string name, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.RegDeleteValue, RapiRequests.RegDeleteValue(v, key, name), SmallReply,
            body => RapiReplies.RegResult(body, v, RapiCall.RegDeleteValue, name), cancellationToken);
    }

    /// <summary>Deletes a key and what is below it (Windows CE's RegDeleteKey is recursive); false when it was not there.</summary>
    public ValueTask<bool> RegDeleteKeyAsync(CeRegistryKey parent, string subKey, CancellationToken cancellationToken = default)
    {
        var v = Version;
        return CallAsync(RapiCall.RegDeleteKey, RapiRequests.RegDeleteKey(v, parent, subKey), SmallReply,
            body => RapiReplies.RegResult(body, v, RapiCall.RegDeleteKey, subKey), cancellationToken);
    }
}
