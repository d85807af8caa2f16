namespace Cradle.ActiveSync.Tests;

/// <summary>
/// The tests that pull a shaped veth's cable and time keepalives across it run one at a time,
/// never beside each other or the rest of the assembly: on a 2-core machine a neighbour's CPU
/// load delays the emulator process's replies past the few hundred milliseconds these tests
/// give a keepalive, and the cable-pull test then waited for an end that came late.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VethCollection
{
    public const string Name = "veth cable";
}
