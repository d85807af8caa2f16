namespace Cradle.ActiveSync.Emulator;

/// <summary>The registry calls, over <see cref="EmulatedRegistry"/>.</summary>
internal sealed partial class RapiSession
{
    private EmulatedRegistry Registry => device.Registry;

    private EmulatedDevice.RapiReply RegOpenKeyEx(RequestReader r)
    {
        var key = r.U32();
        var (error, handle) = Registry.Open(key, Path(r));
        var w = Begin().U32(0).U32(error);
        return new(error == 0 ? w.U32(handle) : w);
    }

    private EmulatedDevice.RapiReply RegCreateKeyEx(RequestReader r)
    {
        var key = r.U32();
        var subKey = Path(r);
        Path(r); // the class: ignored, as Windows CE does
        var (error, handle, disposition) = Registry.Create(key, subKey);
        var w = Begin().U32(0).U32(error);
        return new(error == 0 ? w.U32(handle).U32(disposition) : w);
    }

    private EmulatedDevice.RapiReply RegCloseKey(RequestReader r) => Result(0, Registry.Close(r.U32()));

    private EmulatedDevice.RapiReply RegDeleteKey(RequestReader r)
    {
        var key = r.U32();
        return Result(0, Registry.DeleteKey(key, OptionalPath(r)));
    }

    private EmulatedDevice.RapiReply RegDeleteValue(RequestReader r)
    {
        var key = r.U32();
        return Result(0, Registry.DeleteValue(key, OptionalPath(r)));
    }

    private EmulatedDevice.RapiReply RegQueryValueEx(RequestReader r)
    {
        var key = r.U32();
        var name = OptionalPath(r);
        uint capacity;
        var sizeQuery = false;
        if (Version == 2)
        {
            capacity = r.U32();
        }
        else
        {
            r.U32(); // lpReserved: NULL
            r.OptionalOutSize(); // lpType
            var buffer = r.OptionalOutSize(); // lpData: NULL when the host only asks the size
            var size = r.Optional(); // lpcbData
            sizeQuery = buffer is null;
            capacity = size is { Length: 4 } ? Math.Min(buffer ?? 0, BitConverter.ToUInt32(size)) : buffer ?? 0;
        }

        var (error, value) = Registry.Query(key, name);
        if (error != 0 || value is null)
        {
            return Result(0, error);
        }

        var data = value.ToBytes();
        if (capacity == 0 && Version == 2)
        {
            // A size query (lpData NULL, *lpcbData 0), as SynCE's synce-registry makes before
            // reading: success, the type and the size, no data.
            return new(Begin().U32(0).U32(0).U32(value.Type).U32((uint)data.Length));
        }

        if (sizeQuery)
        {
            // RAPI1 says NULL outright: the type, no data parameter, the size.
            return new(Begin().U32(0).U32(0).U32(1).U32(4).U32(1).U32(value.Type).U32(0).U32(1).U32(4).U32(1).U32((uint)data.Length));
        }

        if (data.Length > capacity)
        {
            return Result(0, ErrorMoreData);
        }

        var w = Begin().U32(0).U32(0);
        if (Version == 2)
        {
            return new(w.U32(value.Type).U32((uint)data.Length).Bytes(data));
        }

        return new(w.U32(1).U32(4).U32(1).U32(value.Type)
            .U32(1).U32((uint)data.Length).U32(1).Bytes(data)
            .U32(1).U32(4).U32(1).U32((uint)data.Length));
    }

    private EmulatedDevice.RapiReply RegSetValueEx(RequestReader r)
    {
        var key = r.U32();
        var name = OptionalPath(r);
        var type = r.U32();
        byte[] data;
        if (Version == 2)
        {
            data = r.Bytes(r.U32());
        }
        else
        {
            data = r.Optional() ?? [];
            var size = r.U32();
            if (size < data.Length)
            {
                data = data[..(int)size];
            }
        }

        return Result(0, Registry.SetValue(key, name, type, data));
    }

    private EmulatedDevice.RapiReply RegEnumKeyEx(RequestReader r)
    {
        var key = r.U32();
        var index = r.U32();
        r.U32(); // name buffer size
        var classSize = r.U32();
        r.U32();
        var (error, names) = Registry.SubKeys(key);
        if (error != 0 || index >= names.Count)
        {
            return Result(0, error != 0 ? error : EmulatedRegistry.ErrorNoMoreItems);
        }

        var w = Begin().U32(0).U32(0).U32((uint)names[(int)index].Length).Utf16(names[(int)index], nul: false);
        return new(classSize > 0 ? w.U32(0) : w);
    }

    private EmulatedDevice.RapiReply RegEnumValue(RequestReader r)
    {
        var key = r.U32();
        var index = r.U32();
        r.U32(); // name buffer size
        var dataSize = r.U32();
        var (error, values) = Registry.Values(key);
        if (error != 0 || index >= values.Count)
        {
            return Result(0, error != 0 ? error : EmulatedRegistry.ErrorNoMoreItems);
        }

        var (name, value) = values[(int)index];
        var data = value.ToBytes();
        var w = Begin().U32(0).U32(0).U32((uint)name.Length).Utf16(name, nul: false).U32(value.Type).U32((uint)data.Length);
        return new(w.Bytes(data.AsSpan(0, (int)Math.Min((uint)data.Length, dataSize))));
    }

    private EmulatedDevice.RapiReply RegQueryInfoKey(RequestReader r)
    {
        var key = r.U32();
        r.U32(); // class buffer size
        r.U32();
        var (error, names) = Registry.SubKeys(key);
        var (_, values) = Registry.Values(key);
        if (error != 0)
        {
            return Result(0, error);
        }

        return new(Begin().U32(0).U32(0).U32(0)
            .U32((uint)names.Count).U32((uint)names.Select(n => n.Length).DefaultIfEmpty(0).Max()).U32(0)
            .U32((uint)values.Count).U32((uint)values.Select(v => v.Key.Length).DefaultIfEmpty(0).Max())
            .U32((uint)values.Select(v => v.Value.ToBytes().Length).DefaultIfEmpty(0).Max()));
    }
}
