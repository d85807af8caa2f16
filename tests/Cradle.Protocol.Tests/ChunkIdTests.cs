using System.Text;
using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

public class ChunkIdTests
{
    [Fact]
    public void Id_is_the_sha256_of_the_content()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ChunkId.Of([]).ToString());
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ChunkId.Of(Encoding.ASCII.GetBytes("abc")).ToString());
    }

    [Fact]
    public void Id_round_trips_through_its_32_bytes()
    {
        var id = ChunkId.Of("hello"u8);
        var bytes = id.ToArray();
        Assert.Equal(32, bytes.Length);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData("hello"u8), bytes);
        Assert.Equal(id, ChunkId.Read(bytes));
        Assert.True(id == ChunkId.Read(bytes));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Reading_an_id_of_the_wrong_length_is_a_protocol_violation(int length)
    {
        Assert.Throws<CradleProtocolException>(() => ChunkId.Read(new byte[length]));
    }

    [Fact]
    public void Ids_order_like_their_bytes()
    {
        var low = new byte[32];
        var high = new byte[32];
        high[31] = 1;
        var a = ChunkId.Read(low);
        var b = ChunkId.Read(high);
        Assert.True(a < b);
        Assert.True(b > a);
        Assert.NotEqual(a, b);
        Assert.Equal(0, a.CompareTo(ChunkId.Read(new byte[32])));
    }
}
