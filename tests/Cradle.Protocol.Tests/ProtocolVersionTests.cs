using Cradle.Protocol;

namespace Cradle.Protocol.Tests;

/// <summary>Which version a session speaks: the newest in the device's range and the host's.</summary>
public class ProtocolVersionTests
{
    [Theory]
    [InlineData(1u, 2u, 2u, 2u)] // a device of this build, a host of this build
    [InlineData(1u, 9u, 2u, 2u)] // a newer device that still speaks this build's versions
    [InlineData(2u, 0u, 2u, 2u)] // a device that stated one version (before the range)
    [InlineData(1u, 0u, 2u, 1u)] // a version 1 device
    [InlineData(1u, 2u, 1u, 1u)] // a device of this build, a host that speaks version 1 only
    public void The_session_speaks_the_newest_version_both_speak(uint deviceOldest, uint deviceNewest, uint hostNewest, uint expected) =>
        Assert.Equal(expected, ProtocolVersion.Agree(deviceOldest, deviceNewest, hostNewest));

    [Theory]
    [InlineData(0u, 0u, 2u)] // older than version 1
    [InlineData(3u, 0u, 2u)] // a device that speaks only a newer version
    [InlineData(3u, 5u, 2u)]
    [InlineData(2u, 0u, 1u)] // a version 2-only device and a version 1 host
    public void Ranges_that_do_not_meet_agree_on_nothing(uint deviceOldest, uint deviceNewest, uint hostNewest) =>
        Assert.Null(ProtocolVersion.Agree(deviceOldest, deviceNewest, hostNewest));
}
