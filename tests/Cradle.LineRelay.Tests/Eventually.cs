namespace Cradle.LineRelay.Tests;

internal static class Eventually
{
    /// <summary>Waits for a condition the relay's threads make true, failing the test after 10 s.</summary>
    public static async Task HoldsAsync(Func<bool> condition, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"still not true after 10 s: {describe()}");
            await Task.Delay(10);
        }
    }
}
