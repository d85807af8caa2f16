using System.CommandLine;

namespace Cradle.Cli;

/// <summary>The <c>cradle</c> command tree. Each subcommand is thin over the host and device engines.</summary>
internal static class CradleCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("""
            Cradle backs up the data files of handheld devices to a host PC: versioned, deduplicated,
            verified, over the network (USB and serial links are planned).

              cradle demo                          see it work end to end in a folder under the current one
              cradle host run                      run the host service
              cradle device init / connect         set up a device and back it up

            Exit codes: 0 done; 1 failed; 2 bad usage; 3 refused (a partnership rule, authentication,
            protocol version); 4 the link failed (try again).
            """);
        root.Subcommands.Add(HostCommands.Build());
        root.Subcommands.Add(DeviceCommands.Build());
        root.Subcommands.Add(DemoCommand.Build());
        return root;
    }
}
