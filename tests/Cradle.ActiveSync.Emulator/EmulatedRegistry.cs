using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Cradle.ActiveSync.Emulator;

/// <summary>
/// The device's registry, kept in a JSON file so that it survives reconnects (a device keeps its
/// registry across cradlings) and tests can read or seed it. Keys are paths like
/// <c>HKLM\Ident</c>, names compare ignoring case. It also remembers which partnership slot was
/// written last, which a cold boot loses (rule P6: the newest partnership goes).
/// </summary>
public sealed class EmulatedRegistry
{
    public const string PartnersPath = @"HKLM\Software\Microsoft\Windows CE Services\Partners";
    public const uint ErrorFileNotFound = 2;
    public const uint ErrorNoMoreItems = 259;
    public const uint ErrorInvalidHandle = 6;

    private static readonly Dictionary<uint, string> Roots = new()
    {
        [0x80000000] = "HKCR",
        [0x80000001] = "HKCU",
        [0x80000002] = "HKLM",
        [0x80000003] = "HKU",
    };

    private readonly string _file;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, RegistryValueJson>> _keys = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<uint, string> _handles = [];
    private readonly List<int> _partnerOrder = [];
    private uint _nextHandle = 0x1000;

    public EmulatedRegistry(string file, string initialName)
    {
        _file = file;
        if (File.Exists(file))
        {
            var stored = JsonSerializer.Deserialize(File.ReadAllText(file), EmulatorJson.Default.RegistryFileJson)
                ?? throw new InvalidDataException($"{file} holds no registry");
            foreach (var key in stored.Keys)
            {
                _keys[key.Path] = new Dictionary<string, RegistryValueJson>(key.Values, StringComparer.OrdinalIgnoreCase);
            }

            _partnerOrder.AddRange(stored.PartnerOrder);
        }
        else
        {
            _keys[@"HKLM\Ident"] = new(StringComparer.OrdinalIgnoreCase) { ["Name"] = RegistryValueJson.String(initialName), ["Desc"] = RegistryValueJson.String("Emulated device") };
            Save();
        }
    }

    /// <summary>HKLM\Ident\Name: what the device calls itself in its info message.</summary>
    public string DeviceName
    {
        get
        {
            lock (_gate)
            {
                return Get(@"HKLM\Ident", "Name")?.AsText() ?? "";
            }
        }
    }

    /// <summary>The PId of the current slot (PCur), 0 when none: the info message's cur_partner_id.</summary>
    public uint CurrentPartnerId
    {
        get
        {
            lock (_gate)
            {
                var current = Get(PartnersPath, "PCur")?.AsDWord() ?? 0;
                return current is 1 or 2 ? Get($@"{PartnersPath}\P{current}", "PId")?.AsDWord() ?? 0 : 0;
            }
        }
    }

    /// <summary>A value by full key path, for tests.</summary>
    public RegistryValueJson? Get(string keyPath, string name)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(keyPath, out var values) && values.TryGetValue(name, out var value) ? value : null;
        }
    }

    public bool KeyExists(string keyPath)
    {
        lock (_gate)
        {
            return _keys.ContainsKey(keyPath);
        }
    }

    /// <summary>Sets a value by full key path (tests seed partnerships with it).</summary>
    public void Set(string keyPath, string name, RegistryValueJson value)
    {
        lock (_gate)
        {
            SetLocked(keyPath, name, value);
            Save();
        }
    }

    /// <summary>A cold boot: the newest partnership slot is gone, and PCur with it if it pointed there.</summary>
    public int? ColdBoot()
    {
        lock (_gate)
        {
            var newest = _partnerOrder.LastOrDefault(slot => _keys.ContainsKey($@"{PartnersPath}\P{slot}"));
            _partnerOrder.Clear();
            if (newest == 0)
            {
                return null;
            }

            _keys.Remove($@"{PartnersPath}\P{newest}");
            if (Get(PartnersPath, "PCur")?.AsDWord() == (uint)newest)
            {
                SetLocked(PartnersPath, "PCur", RegistryValueJson.FromDWord(0));
            }

            foreach (var slot in new[] { 1, 2 }.Where(s => s != newest && _keys.ContainsKey($@"{PartnersPath}\P{s}")))
            {
                _partnerOrder.Add(slot);
            }

            Save();
            return newest;
        }
    }

    public (uint Error, uint Handle) Open(uint parent, string? subKey)
    {
        lock (_gate)
        {
            var path = Path(parent, subKey);
            if (path is null || !_keys.ContainsKey(path) && !Roots.ContainsValue(path))
            {
                return (path is null ? ErrorInvalidHandle : ErrorFileNotFound, 0);
            }

            return (0, NewHandle(path));
        }
    }

    public (uint Error, uint Handle, uint Disposition) Create(uint parent, string? subKey)
    {
        lock (_gate)
        {
            var path = Path(parent, subKey);
            if (path is null)
            {
                return (ErrorInvalidHandle, 0, 0);
            }

            var existed = _keys.ContainsKey(path) || Roots.ContainsValue(path);
            if (!existed)
            {
                _keys[path] = new(StringComparer.OrdinalIgnoreCase);
                Save();
            }

            return (0, NewHandle(path), existed ? 2u : 1u);
        }
    }

    public uint Close(uint handle)
    {
        lock (_gate)
        {
            return Roots.ContainsKey(handle) || _handles.Remove(handle) ? 0 : ErrorInvalidHandle;
        }
    }

    public (uint Error, RegistryValueJson? Value) Query(uint handle, string? name)
    {
        lock (_gate)
        {
            var path = Path(handle, null);
            if (path is null)
            {
                return (ErrorInvalidHandle, null);
            }

            var value = _keys.TryGetValue(path, out var values) && values.TryGetValue(name ?? "", out var found) ? found : null;
            return (value is null ? ErrorFileNotFound : 0, value);
        }
    }

    public uint SetValue(uint handle, string? name, uint type, byte[] data)
    {
        lock (_gate)
        {
            var path = Path(handle, null);
            if (path is null)
            {
                return ErrorInvalidHandle;
            }

            SetLocked(path, name ?? "", RegistryValueJson.FromBytes(type, data));
            Save();
            return 0;
        }
    }

    public uint DeleteValue(uint handle, string? name)
    {
        lock (_gate)
        {
            var path = Path(handle, null);
            if (path is null || !_keys.TryGetValue(path, out var values) || !values.Remove(name ?? ""))
            {
                return path is null ? ErrorInvalidHandle : ErrorFileNotFound;
            }

            Save();
            return 0;
        }
    }

    public uint DeleteKey(uint parent, string? subKey)
    {
        lock (_gate)
        {
            var path = Path(parent, subKey);
            if (path is null || string.IsNullOrEmpty(subKey))
            {
                return ErrorInvalidHandle;
            }

            var doomed = _keys.Keys.Where(k => string.Equals(k, path, StringComparison.OrdinalIgnoreCase) || k.StartsWith(path + "\\", StringComparison.OrdinalIgnoreCase)).ToList();
            if (doomed.Count == 0)
            {
                return ErrorFileNotFound;
            }

            doomed.ForEach(k => _keys.Remove(k));
            Save();
            return 0;
        }
    }

    /// <summary>The names of a key's direct subkeys, in a stable order.</summary>
    public (uint Error, List<string> Names) SubKeys(uint handle)
    {
        lock (_gate)
        {
            var path = Path(handle, null);
            if (path is null)
            {
                return (ErrorInvalidHandle, []);
            }

            var names = _keys.Keys
                .Where(k => k.StartsWith(path + "\\", StringComparison.OrdinalIgnoreCase))
                .Select(k => k[(path.Length + 1)..].Split('\\')[0])
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .Order(StringComparer.OrdinalIgnoreCase)
                .ToList();
            return (0, names);
        }
    }

    public (uint Error, List<KeyValuePair<string, RegistryValueJson>> Values) Values(uint handle)
    {
        lock (_gate)
        {
            var path = Path(handle, null);
            if (path is null)
            {
                return (ErrorInvalidHandle, []);
            }

            return (0, _keys.TryGetValue(path, out var values) ? values.OrderBy(v => v.Key, StringComparer.OrdinalIgnoreCase).ToList() : []);
        }
    }

    private void SetLocked(string keyPath, string name, RegistryValueJson value)
    {
        // Every key above a new one exists too, as on a real registry.
        var parts = keyPath.Split('\\');
        for (var i = 2; i <= parts.Length; i++)
        {
            var ancestor = string.Join('\\', parts[..i]);
            if (!_keys.ContainsKey(ancestor))
            {
                _keys[ancestor] = new(StringComparer.OrdinalIgnoreCase);
            }
        }

        var values = _keys[keyPath];
        var before = values.TryGetValue(name, out var old) ? old : null;
        values[name] = value;

        // A slot's PId written anew is a partnership made: the newest, which a cold boot ends.
        if (string.Equals(name, "PId", StringComparison.OrdinalIgnoreCase)
            && keyPath.StartsWith(PartnersPath + @"\P", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(keyPath.AsSpan(PartnersPath.Length + 2), out var slot)
            && before?.AsDWord() != value.AsDWord())
        {
            _partnerOrder.Remove(slot);
            _partnerOrder.Add(slot);
        }
    }

    private string? Path(uint handle, string? subKey)
    {
        string? basePath = Roots.TryGetValue(handle, out var root) ? root : _handles.GetValueOrDefault(handle);
        if (basePath is null)
        {
            return null;
        }

        if (string.IsNullOrEmpty(subKey))
        {
            return basePath;
        }

        var names = subKey.Split('\\', StringSplitOptions.RemoveEmptyEntries);
        return names.Length == 0 ? basePath : basePath + "\\" + string.Join('\\', names);
    }

    private uint NewHandle(string path)
    {
        var handle = _nextHandle++;
        _handles[handle] = path;
        return handle;
    }

    private void Save()
    {
        var file = new RegistryFileJson
        {
            Keys = [.. _keys.OrderBy(k => k.Key, StringComparer.OrdinalIgnoreCase).Select(k => new RegistryKeyJson { Path = k.Key, Values = new(k.Value) })],
            PartnerOrder = [.. _partnerOrder],
        };
        var temp = _file + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(file, EmulatorJson.Default.RegistryFileJson));
        File.Move(temp, _file, overwrite: true);
    }
}

public sealed class RegistryFileJson
{
    public List<RegistryKeyJson> Keys { get; set; } = [];

    /// <summary>Partnership slots in the order their PId was written (the last is the newest).</summary>
    public List<int> PartnerOrder { get; set; } = [];
}

public sealed class RegistryKeyJson
{
    public string Path { get; set; } = "";

    public Dictionary<string, RegistryValueJson> Values { get; set; } = [];
}

/// <summary>A registry value in the file: its type and one of text, dword or base64 bytes.</summary>
public sealed class RegistryValueJson
{
    public uint Type { get; set; }

    public string? Text { get; set; }

    public uint? DWord { get; set; }

    public string? Base64 { get; set; }

    public static RegistryValueJson String(string text) => new() { Type = 1, Text = text };

    public static RegistryValueJson FromDWord(uint value) => new() { Type = 4, DWord = value };

    public static RegistryValueJson FromBytes(uint type, byte[] data) => type switch
    {
        1 or 2 when data.Length % 2 == 0 => new() { Type = type, Text = RequestReader.Text(data) },
        4 when data.Length == 4 => new() { Type = 4, DWord = BinaryPrimitives.ReadUInt32LittleEndian(data) },
        _ => new() { Type = type, Base64 = Convert.ToBase64String(data) },
    };

    public byte[] ToBytes() => Type switch
    {
        _ when Text is not null => Encoding.Unicode.GetBytes(Text + "\0"),
        _ when DWord is { } d => BitConverter.GetBytes(d),
        _ => Convert.FromBase64String(Base64 ?? ""),
    };

    public string? AsText() => Text;

    public uint? AsDWord() => DWord;
}
