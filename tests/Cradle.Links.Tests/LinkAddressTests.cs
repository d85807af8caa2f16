namespace Cradle.Links.Tests;

public class LinkAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:5679", "127.0.0.1", 5679, "127.0.0.1:5679")]
    [InlineData("10.0.0.2", "10.0.0.2", LinkAddress.DefaultPort, "10.0.0.2:5679")]
    [InlineData("[::1]:8080", "::1", 8080, "[::1]:8080")]
    [InlineData("::1", "::1", LinkAddress.DefaultPort, "[::1]:5679")]
    [InlineData("[fe80::1]", "fe80::1", LinkAddress.DefaultPort, "[fe80::1]:5679")]
    [InlineData("host.example:7000", "host.example", 7000, "host.example:7000")]
    [InlineData("host.example", "host.example", LinkAddress.DefaultPort, "host.example:5679")]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0, "127.0.0.1:0")]
    public void Parses_what_a_person_types(string text, string host, int port, string shown)
    {
        var address = LinkAddress.Parse(text);
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
        Assert.Equal(shown, address.ToString());
    }

    [Theory]
    [InlineData("host:99999")]
    [InlineData("host:port")]
    [InlineData("")]
    [InlineData("  ")]
    public void Refuses_what_is_not_an_address(string text)
    {
        Assert.ThrowsAny<ArgumentException>(() => LinkAddress.Parse(text));
    }
}
