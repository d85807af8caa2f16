namespace Cradle.LineRelay.Tests;

public sealed class LinePacerTests
{
    private const int Plenty = 1_000_000;

    private readonly ManualClock _clock = new();

    [Fact]
    public void A_115200_baud_line_carries_11520_bytes_a_second_whatever_the_wakeups()
    {
        var pacer = new LinePacer(_clock);
        pacer.Restart(115200);
        long carried = 0;
        var steps = new[] { 0.3, 1.0, 7.0, 0.05, 2.5 };
        var elapsed = TimeSpan.Zero;
        for (var i = 0; elapsed < TimeSpan.FromSeconds(10); i++)
        {
            var step = TimeSpan.FromMilliseconds(steps[i % steps.Length]);
            _clock.Advance(step);
            elapsed += step;
            carried += pacer.Grant(Plenty, 115200);
        }

        // The one byte a fresh line may send at once, then exactly 11,520 a second.
        var expected = 1 + (long)(elapsed.TotalSeconds * 11_520);
        Assert.InRange(carried, expected - 1, expected + 1);
    }

    [Fact]
    public void An_idle_line_banks_no_burst()
    {
        var pacer = new LinePacer(_clock);
        _clock.Advance(TimeSpan.FromSeconds(5));

        pacer.Restart(9600);

        Assert.Equal(1, pacer.Grant(Plenty, 9600));
        Assert.Equal(0, pacer.Grant(Plenty, 9600));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(960, pacer.Grant(Plenty, 9600));
    }

    [Fact]
    public void Time_with_less_waiting_than_the_line_could_carry_is_not_saved_up()
    {
        var pacer = new LinePacer(_clock);
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(10, pacer.Grant(10, 9600));
        Assert.Equal(0, pacer.Grant(Plenty, 9600));
    }

    [Fact]
    public void Bytes_the_receiver_did_not_take_are_granted_again()
    {
        var pacer = new LinePacer(_clock);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var granted = pacer.Grant(Plenty, 9600);

        pacer.Refund(granted);

        Assert.Equal(granted, pacer.Grant(Plenty, 9600));
    }

    [Fact]
    public void An_unpaced_line_grants_everything()
    {
        var pacer = new LinePacer(_clock);

        Assert.Equal(Plenty, pacer.Grant(Plenty, 0));
    }
}
