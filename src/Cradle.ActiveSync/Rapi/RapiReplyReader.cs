using Cradle.ActiveSync.Wire;

namespace Cradle.ActiveSync.Rapi;

/// <summary>
/// Reads one RAPI reply body. RAPI2 replies start with last_error; RAPI1 replies start with a flag
/// word, and a flag of 1 is followed by an HRESULT that, when not 0, means the call failed before
/// the device ran it (librapi2 <c>rapi_context_call</c>).
/// </summary>
internal ref struct RapiReplyReader
{
    private WireReader _reader;

    private RapiReplyReader(ReadOnlySpan<byte> body, RapiVersion version, RapiCall call, string? subject)
    {
        _reader = new WireReader(body, $"{call.Name} reply");
        Version = version;
        Call = call;
        Subject = subject;
    }

    public RapiVersion Version { get; }

    public RapiCall Call { get; }

    public string? Subject { get; }

    public readonly int Remaining => _reader.Remaining;

    /// <summary>Starts a reply, consuming RAPI1's flag (and HRESULT). Throws <see cref="RapiCallException"/> on a RAPI1 failure.</summary>
    public static RapiReplyReader Start(ReadOnlySpan<byte> body, RapiVersion version, RapiCall call, string? subject)
    {
        var reader = new RapiReplyReader(body, version, call, subject);
        if (version == RapiVersion.Rapi1 && reader.U32("the RAPI1 result flag") == 1)
        {
            var hresult = reader.U32("the RAPI1 HRESULT");
            if (hresult != 0)
            {
                throw new RapiCallException(call.Name, hresult, subject);
            }
        }

        return reader;
    }

    public uint U32(string field) => _reader.U32(field);

    public long FileTime(string field) => _reader.FileTime(field);

    public ReadOnlySpan<byte> Bytes(uint count, int cap, string field) => _reader.Bytes(count, cap, field);

    public string Utf16(uint chars, int capChars, string field) => _reader.Utf16(chars, capChars, field);

    public string Utf16Bytes(uint bytes, int capBytes, string field) => _reader.Utf16Bytes(bytes, capBytes, field);

    /// <summary>
    /// A RAPI1 optional out-parameter: has-parameter, then size and has-value, then the data when
    /// there is a value. Returns null when the device sent none.
    /// </summary>
    public ReadOnlySpan<byte> Optional(int cap, string field, out bool present)
    {
        present = false;
        if (U32($"{field}'s presence flag") != 1)
        {
            return default;
        }

        var size = U32($"{field}'s size");
        if (U32($"{field}'s has-value flag") != 1)
        {
            return default;
        }

        present = true;
        return Bytes(size, cap, field);
    }

    public readonly ActiveSyncProtocolException Fail(string problem) => _reader.Fail(problem);

    public readonly RapiCallException Failed(uint error) => new(Call.Name, error, Subject);
}
