namespace Cradle.LineRelay.Tests;

public sealed class LineRelayArgumentsTests
{
    [Fact]
    public void Flags_set_the_options()
    {
        var options = LineRelayArguments.Parse(["--baud", "115200", "--ber", "1e-4", "--drop", "0.01", "--seed", "42", "--baud-mismatch"]);

        Assert.Equal(new LineRelayOptions(LineBaud: 115200, BitErrorRate: 1e-4, DropRate: 0.01, Seed: 42, EmulateBaudMismatch: true), options);
    }

    [Fact]
    public void No_flags_is_a_clean_unpaced_line()
    {
        Assert.Equal(new LineRelayOptions(), LineRelayArguments.Parse([]));
    }

    [Theory]
    [InlineData("--speed", "9600")]
    [InlineData("--baud")]
    [InlineData("--baud", "fast")]
    [InlineData("--ber", "2")]
    [InlineData("--drop", "-0.5")]
    [InlineData("--baud-mismatch")]
    [InlineData("--baud", "250000", "--baud-mismatch")]
    public void Bad_arguments_are_refused_before_a_pty_opens(params string[] args)
    {
        Assert.ThrowsAny<ArgumentException>(() => LineRelayArguments.Parse(args));
    }
}
