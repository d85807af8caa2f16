using System.Buffers.Binary;
using CsCheck;

namespace Cradle.Fuzz;

/// <summary>
/// Hostile variations of valid inputs: bit flips, truncations, insertions, deletions, spliced
/// copies, and integers overwritten with huge values (the length field that claims 2 GB).
/// Shared by the property tests and the fuzz harness's corpus writer.
/// </summary>
public static class Mutator
{
    private static readonly ulong[] HugeValues =
    [
        0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x00400001, 0x00100001, 0x0FFFFFFF, 10_000_001, uint.MaxValue - 40, 0,
    ];

    private static readonly byte[] HugeVarInt = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F];

    /// <summary>Random bytes of up to <paramref name="maxLength"/>.</summary>
    public static Gen<byte[]> Noise(int maxLength) => Gen.Byte.Array[0, maxLength];

    /// <summary>One of <paramref name="seeds"/> with one to four mutations.</summary>
    public static Gen<byte[]> Mutants(IReadOnlyList<byte[]> seeds) =>
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Int[1, 4], Gen.Int, (i, count, seed) => Mutate(seeds[i], count, new Random(seed)));

    public static byte[] Mutate(byte[] input, int count, Random random)
    {
        var bytes = new List<byte>(input);
        for (var m = 0; m < count; m++)
        {
            Apply(bytes, random);
        }

        return [.. bytes];
    }

    private static void Apply(List<byte> bytes, Random random)
    {
        var at = random.Next(bytes.Count + 1);
        switch (random.Next(7))
        {
            case 0 when bytes.Count > 0:
                at = Math.Min(at, bytes.Count - 1);
                bytes[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 2:
                bytes.InsertRange(at, Enumerable.Range(0, random.Next(1, 17)).Select(_ => (byte)random.Next(256)));
                break;
            case 3:
                bytes.RemoveRange(at, Math.Min(random.Next(1, 65), bytes.Count - at));
                break;
            case 4 when bytes.Count > 0:
                var from = random.Next(bytes.Count);
                bytes.InsertRange(at, bytes.GetRange(from, Math.Min(random.Next(1, 129), bytes.Count - from)));
                break;
            case 5:
                Overwrite(bytes, at, Huge(random, random.Next(3)));
                break;
            default:
                // A varint (LEB128) that claims the largest 64-bit value.
                Overwrite(bytes, at, HugeVarInt[random.Next(3)..]);
                break;
        }
    }

    private static byte[] Huge(Random random, int layout)
    {
        var value = HugeValues[random.Next(HugeValues.Length)];
        var bytes = new byte[layout == 2 ? 8 : 4];
        switch (layout)
        {
            case 0:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
                break;
            case 1:
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)value);
                break;
            default:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, value << 24);
                break;
        }

        return bytes;
    }

    private static void Overwrite(List<byte> bytes, int at, byte[] value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (at + i < bytes.Count)
            {
                bytes[at + i] = value[i];
            }
            else
            {
                bytes.Add(value[i]);
            }
        }
    }
}
