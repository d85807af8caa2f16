namespace Cradle.LineRelay.Tests;

/// <summary>A clock that moves only when the test says so; only timestamps, which is all the pacer reads.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
