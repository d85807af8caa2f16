using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Cradle.ActiveSync.Wire;

/// <summary>Writes little-endian fields of one message the host sends.</summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public WireWriter(int initialCapacity = 64) => _buffer = new ArrayBufferWriter<byte>(initialCapacity);

    public int Length => _buffer.WrittenCount;

    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    public WireWriter U32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public WireWriter U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
        return this;
    }

    public WireWriter FileTime(long fileTime) => U32(unchecked((uint)fileTime)).U32(unchecked((uint)((ulong)fileTime >> 32)));

    public WireWriter Bytes(ReadOnlySpan<byte> bytes)
    {
        _buffer.Write(bytes);
        return this;
    }

    /// <summary>UTF-16LE code units of <paramref name="text"/> and a terminating NUL.</summary>
    public WireWriter Utf16Z(string text)
    {
        var count = Encoding.Unicode.GetByteCount(text);
        var span = _buffer.GetSpan(count + 2);
        Encoding.Unicode.GetBytes(text, span);
        span[count] = 0;
        span[count + 1] = 0;
        _buffer.Advance(count + 2);
        return this;
    }

    /// <summary>Overwrites the u32 at <paramref name="offset"/> (a length written before the body was known).</summary>
    public void PatchU32(int offset, uint value)
    {
        var span = System.Runtime.InteropServices.MemoryMarshal.AsMemory(_buffer.WrittenMemory).Span;
        BinaryPrimitives.WriteUInt32LittleEndian(span.Slice(offset, 4), value);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>Zeroes what was written: the buffer held a secret (an encoded password).</summary>
    public void Clear()
    {
        System.Runtime.InteropServices.MemoryMarshal.AsMemory(_buffer.WrittenMemory).Span.Clear();
        _buffer.Clear();
    }

    public static int Utf16ByteCountWithNul(string text) => checked((text.Length + 1) * 2);
}
