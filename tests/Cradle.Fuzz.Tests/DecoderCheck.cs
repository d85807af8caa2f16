namespace Cradle.Fuzz.Tests;

/// <summary>
/// The property every decoder must keep on any input: it returns or throws one of its
/// documented exception types, and allocates no more than a bound proportional to the input
/// (a length field that claims 2 GB must not make it allocate 2 GB).
/// </summary>
public static class DecoderCheck
{
    /// <summary>What any decode may allocate whatever the input: buffers, a file stream, a channel.</summary>
    public const long FixedAllowance = 256 * 1024;

    /// <summary>What a decode may allocate per input byte (decoded objects, strings, lists).</summary>
    public const long PerInputByte = 64;

    /// <summary>The allocation bound for an input of <paramref name="length"/> bytes.</summary>
    public static long Budget(int length) => FixedAllowance + (PerInputByte * length);

    /// <summary>Runs the target and fails (with the input in hex) on a foreign exception or an allocation over budget.</summary>
    public static object? Holds(DecoderTarget target, byte[] input)
    {
        object? result = null;
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            result = target.Run(input);
        }
        catch (Exception e) when (target.IsAllowed(e))
        {
            // A documented refusal of hostile input.
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{target.Name}: {e.GetType().Name} is not a documented failure of this decoder; input {Convert.ToHexString(input)}", e);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > Budget(input.Length))
        {
            throw new InvalidOperationException($"{target.Name}: decoding {input.Length} bytes allocated {allocated} bytes, over the bound of {Budget(input.Length)}; input {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 256)))}");
        }

        return result;
    }
}
