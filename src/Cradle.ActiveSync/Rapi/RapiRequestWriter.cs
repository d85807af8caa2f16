using Cradle.ActiveSync.Wire;

namespace Cradle.ActiveSync.Rapi;

/// <summary>
/// Builds one RAPI request: u32 body length, u32 command id, arguments. The string and optional
/// encodings follow librapi2 (<c>support/rapi_buffer.c</c>): RAPI2 strings are a byte count
/// (NUL included) and UTF-16LE; RAPI1 strings are 1, a character count (NUL included) and UTF-16LE;
/// RAPI1 "optional" parameters are 1, a size, a has-data flag, then the data if sent.
/// </summary>
internal sealed class RapiRequestWriter
{
    /// <summary>Characters a path or a name argument may have (Windows CE's MAX_PATH is 260).</summary>
    public const int MaxStringChars = 32 * 1024;

    private readonly WireWriter _writer;

    private RapiRequestWriter(RapiVersion version, RapiCall call, int capacity)
    {
        Version = version;
        Call = call;
        _writer = new WireWriter(capacity);
        _writer.U32(0).U32(call.IdFor(version));
    }

    public RapiVersion Version { get; }

    public RapiCall Call { get; }

    public static RapiRequestWriter Begin(RapiVersion version, RapiCall call, int capacity = 64) => new(version, call, capacity);

    public RapiRequestWriter U32(uint value)
    {
        _writer.U32(value);
        return this;
    }

    public RapiRequestWriter Bytes(ReadOnlySpan<byte> bytes)
    {
        _writer.Bytes(bytes);
        return this;
    }

    /// <summary>A string argument in the version's plain encoding; null is a single 0.</summary>
    public RapiRequestWriter String(string? text)
    {
        if (text is null)
        {
            return U32(0);
        }

        Check(text);
        if (Version == RapiVersion.Rapi2)
        {
            _writer.U32((uint)WireWriter.Utf16ByteCountWithNul(text)).Utf16Z(text);
        }
        else
        {
            _writer.U32(1).U32((uint)(text.Length + 1)).Utf16Z(text);
        }

        return this;
    }

    /// <summary>
    /// A string the RAPI1 call takes as an optional parameter (1, byte count, 1, UTF-16LE + NUL).
    /// RAPI2 has no such form: its plain string is sent.
    /// </summary>
    public RapiRequestWriter OptionalString(string? text)
    {
        if (Version == RapiVersion.Rapi2 || text is null)
        {
            return String(text);
        }

        Check(text);
        _writer.U32(1).U32((uint)WireWriter.Utf16ByteCountWithNul(text)).U32(1).Utf16Z(text);
        return this;
    }

    /// <summary>RAPI1: an out-parameter of <paramref name="size"/> bytes the device fills (1, size, 0).</summary>
    public RapiRequestWriter OptionalOut(uint size) => U32(1).U32(size).U32(0);

    /// <summary>RAPI1: an in-parameter with its data (1, size, data).</summary>
    public RapiRequestWriter OptionalIn(ReadOnlySpan<byte> data)
    {
        _writer.U32(1).U32((uint)data.Length).Bytes(data);
        return this;
    }

    /// <summary>RAPI1: an optional parameter with the has-data flag (1, size, flag, data if sent).</summary>
    public RapiRequestWriter Optional(ReadOnlySpan<byte> data, uint size, bool send)
    {
        _writer.U32(1).U32(size).U32(send ? 1u : 0u);
        if (send)
        {
            _writer.Bytes(data);
        }

        return this;
    }

    /// <summary>A NULL pointer where an optional parameter could go.</summary>
    public RapiRequestWriter Null() => U32(0);

    public byte[] Finish()
    {
        _writer.PatchU32(0, (uint)(_writer.Length - 4));
        return _writer.ToArray();
    }

    private static void Check(string text)
    {
        if (text.Length > MaxStringChars)
        {
            throw new ArgumentException($"a RAPI string argument has at most {MaxStringChars} characters", nameof(text));
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("a RAPI string argument cannot contain NUL (the device would read only the part before it)", nameof(text));
        }
    }
}
