using System.Buffers.Binary;
using System.Text;

namespace Cradle.ActiveSync.Emulator;

/// <summary>Reads what the host sent in one RAPI request, the way a device's RAPI server would.</summary>
internal sealed class RequestReader(byte[] body)
{
    private int _offset;

    public int Remaining => body.Length - _offset;

    public uint U32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(_offset));
        _offset += 4;
        return value;
    }

    public byte[] Bytes(uint count)
    {
        Need(checked((int)count));
        var bytes = body.AsSpan(_offset, (int)count).ToArray();
        _offset += (int)count;
        return bytes;
    }

    /// <summary>RAPI2 string: byte count (NUL included), UTF-16LE; 0 is NULL.</summary>
    public string? String2()
    {
        var bytes = U32();
        return bytes == 0 ? null : Text(Bytes(bytes));
    }

    /// <summary>RAPI1 string: 1, character count (NUL included), UTF-16LE; 0 is NULL.</summary>
    public string? String1()
    {
        if (U32() == 0)
        {
            return null;
        }

        return Text(Bytes(checked(U32() * 2)));
    }

    /// <summary>RAPI1 optional: 1, size, has-data, data; returns null when absent or without data.</summary>
    public byte[]? Optional()
    {
        if (U32() == 0)
        {
            return null;
        }

        var size = U32();
        return U32() == 1 ? Bytes(size) : null;
    }

    /// <summary>RAPI1 optional-in (1, size, data: no has-data word).</summary>
    public byte[]? OptionalIn()
    {
        if (U32() == 0)
        {
            return null;
        }

        return Bytes(U32());
    }

    /// <summary>RAPI1 optional-out (1, size, 0): the size of the buffer the host offers.</summary>
    public uint? OptionalOutSize()
    {
        if (U32() == 0)
        {
            return null;
        }

        var size = U32();
        U32();
        return size;
    }

    public string? OptionalString()
    {
        var bytes = Optional();
        return bytes is null ? null : Text(bytes);
    }

    public static string Text(byte[] utf16)
    {
        var text = Encoding.Unicode.GetString(utf16);
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        return nul >= 0 ? text[..nul] : text;
    }

    private void Need(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new InvalidDataException($"the request ends early: {count} bytes wanted at {_offset}, {Remaining} left");
        }
    }
}

/// <summary>Builds one reply (or DCCM message), little-endian.</summary>
internal sealed class ReplyWriter
{
    private readonly MemoryStream _bytes = new();

    public ReplyWriter U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ReplyWriter U16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ReplyWriter U64(ulong value) => U32(unchecked((uint)value)).U32((uint)(value >> 32));

    public ReplyWriter FileTime(long value) => U64(unchecked((ulong)value));

    public ReplyWriter Bytes(ReadOnlySpan<byte> bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public ReplyWriter Utf16(string text, bool nul)
    {
        _bytes.Write(Encoding.Unicode.GetBytes(nul ? text + "\0" : text));
        return this;
    }

    public int Length => (int)_bytes.Length;

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>The body with its u32 length in front, as RAPI frames it.</summary>
    public byte[] Framed(uint? claimedLength = null)
    {
        var body = _bytes.ToArray();
        var frame = new byte[body.Length + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, claimedLength ?? (uint)body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }
}
