using System.Buffers.Binary;
using System.Text;

namespace Cradle.ActiveSync.Wire;

/// <summary>
/// Reads little-endian fields from one message the device sent. Every read is bounds-checked and
/// every length is compared with its cap before anything is sized by it; a short or lying message
/// throws <see cref="ActiveSyncProtocolException"/> naming the message and the field.
/// </summary>
internal ref struct WireReader
{
    private static readonly UnicodeEncoding StrictUtf16 = new(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _what;
    private int _offset;

    public WireReader(ReadOnlySpan<byte> data, string what)
    {
        _data = data;
        _what = what;
        _offset = 0;
    }

    public readonly int Remaining => _data.Length - _offset;

    public readonly int Offset => _offset;

    public uint U32(string field)
    {
        var value = BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));
        return value;
    }

    public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    /// <summary>A FILETIME: low then high u32, as Windows lays the struct out.</summary>
    public long FileTime(string field)
    {
        var low = U32(field);
        var high = U32(field);
        return unchecked((long)(((ulong)high << 32) | low));
    }

    /// <summary>Exactly <paramref name="count"/> bytes; the count is checked against <paramref name="cap"/> first.</summary>
    public ReadOnlySpan<byte> Bytes(uint count, int cap, string field)
    {
        if (count > (uint)cap)
        {
            throw Fail($"{field} says {count} bytes, more than the {cap} this host accepts");
        }

        return Take((int)count, field);
    }

    /// <summary>UTF-16LE text of <paramref name="chars"/> code units, at most <paramref name="capChars"/>; one trailing NUL is dropped.</summary>
    public string Utf16(uint chars, int capChars, string field)
    {
        if (chars > (uint)capChars)
        {
            throw Fail($"{field} says {chars} characters, more than the {capChars} this host accepts");
        }

        return DecodeUtf16(Take((int)chars * 2, field), field);
    }

    /// <summary>UTF-16LE text given as a byte count (RAPI2 style), at most <paramref name="capBytes"/>.</summary>
    public string Utf16Bytes(uint bytes, int capBytes, string field)
    {
        if (bytes % 2 != 0)
        {
            throw Fail($"{field} says {bytes} bytes of UTF-16, an odd count");
        }

        return DecodeUtf16(Bytes(bytes, capBytes, field), field);
    }

    public void Skip(int count, string field) => Take(count, field);

    /// <summary>Text with one trailing NUL allowed; a NUL inside the text is refused (it would hide what follows it).</summary>
    public readonly string DecodeUtf16(ReadOnlySpan<byte> bytes, string field)
    {
        string text;
        try
        {
            text = StrictUtf16.GetString(bytes);
        }
        catch (ArgumentException e)
        {
            throw new ActiveSyncProtocolException($"malformed {_what} from the device: {field} is not valid UTF-16", e);
        }

        if (text.Length > 0 && text[^1] == '\0')
        {
            text = text[..^1];
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw Fail($"{field} has a NUL character inside it");
        }

        return text;
    }

    public readonly ActiveSyncProtocolException Fail(string problem) =>
        ActiveSyncProtocolException.Malformed(_what, problem);

    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (count < 0 || count > Remaining)
        {
            throw Fail($"it ends inside {field} (needs {count} bytes at offset {_offset}, {Remaining} left)");
        }

        var slice = _data.Slice(_offset, count);
        _offset += count;
        return slice;
    }
}
