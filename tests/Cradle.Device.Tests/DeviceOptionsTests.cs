using Cradle.Protocol;

namespace Cradle.Device.Tests;

/// <summary>Issue 21: the device's options are checked against the wire limits both sides read.</summary>
public sealed class DeviceOptionsTests
{
    [Fact]
    public void The_defaults_are_within_the_wire_limits() => new DeviceOptions().Validate();

    [Fact]
    public void A_query_larger_than_the_host_accepts_is_refused_before_connecting()
    {
        new DeviceOptions { BatchChunks = WireLimits.MaxQueryIds }.Validate();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceOptions { BatchChunks = WireLimits.MaxQueryIds + 1 }.Validate());
        Assert.Equal(nameof(DeviceOptions.BatchChunks), e.ParamName);
    }

    [Theory]
    [InlineData(0, 2048, 16384)]
    [InlineData(DeviceOptions.MaxBatchBytes + 1, 2048, 16384)]
    [InlineData(8 * 1024 * 1024, 0, 16384)]
    [InlineData(8 * 1024 * 1024, 2048, 0)]
    [InlineData(8 * 1024 * 1024, 2048, WireLimits.DefaultMaxOwedPerSession + 1)]
    public void Settings_outside_the_limits_are_refused(int batchBytes, int batchChunks, int owed) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeviceOptions { BatchBytes = batchBytes, BatchChunks = batchChunks, OwedBeforeReread = owed }.Validate());
}
