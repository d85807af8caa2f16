using System.Buffers.Binary;
using System.Text;

namespace Cradle.ActiveSync.Rapi;

/// <summary>A registry value as the device holds it: its type and raw bytes.</summary>
public sealed record CeRegistryValue(CeRegistryValueKind Kind, byte[] Data)
{
    public static CeRegistryValue FromString(string text)
    {
        var bytes = new byte[Encoding.Unicode.GetByteCount(text) + 2];
        Encoding.Unicode.GetBytes(text, bytes);
        return new CeRegistryValue(CeRegistryValueKind.String, bytes);
    }

    public static CeRegistryValue FromDWord(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return new CeRegistryValue(CeRegistryValueKind.DWord, bytes);
    }

    /// <summary>The value as a DWORD, or null when it is not a 4-byte DWORD.</summary>
    public uint? AsDWord() => Kind == CeRegistryValueKind.DWord && Data.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Data) : null;

    /// <summary>The value as text (REG_SZ / REG_EXPAND_SZ, up to its first NUL), or null when it is not text.</summary>
    public string? AsString()
    {
        if (Kind is not (CeRegistryValueKind.String or CeRegistryValueKind.ExpandString) || Data.Length % 2 != 0)
        {
            return null;
        }

        var text = Encoding.Unicode.GetString(Data);
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        return nul >= 0 ? text[..nul] : text;
    }

    public bool Equals(CeRegistryValue? other) => other is not null && Kind == other.Kind && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Kind, Data.Length);
}
