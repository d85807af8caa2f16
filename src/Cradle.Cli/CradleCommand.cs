using System.CommandLine;

namespace Cradle.Cli;

/// <summary>The <c>cradle</c> command tree. Each subcommand is thin over the host and device engines.</summary>
internal static class CradleCommand
{
    /// <summary>The words before a device command's name: <c>cradle device connect</c> here, <c>cradle-device connect</c> in the device's own executable.</summary>
    public static readonly string[] DeviceVerb = ["device"];

    /// <summary>The executable's name, as usage errors name the command.</summary>
    public const string ExecutableName = "cradle";

    public static RootCommand Build()
    {
        var root = new RootCommand("""
            Cradle backs up the data files of handheld devices (the clients) to a host PC: versioned,
            deduplicated, verified, over a USB cable, a serial cable or the network.

            Connect: plug in the USB cable and the device backs up by itself; on a serial cable run
            'cradle device connect --serial PORT' on the device while the host's Get Connected
            ('cradle host run --serial', 'cradle host get-connected') checks its ports; over the
            network, 'cradle device connect --host ADDR'.
            Disconnect: pull the cable, or 'cradle device disconnect'.
            Partnership: made the first time a device connects to a host: the device's unique name
            and a random number (plus a secret that proves it). A device holds two at most; a host
            keeps every device it ever partnered with, and two devices with one name cannot both
            partner with it.
            Cold boot: the device loses its newest partnership; reconnecting to that host makes a
            new number and the host insists on a new name (or, when allowed, the device reclaims
            its record with its recovery key).

              cradle demo                       see it all work in a folder under the current one
              cradle host run                   the host service (cradle host install-service: at boot)
              cradle device init / connect      set up a device and back it up

            Settings: flags, CRADLE_HOST__KEY / CRADLE_DEVICE__KEY variables, cradle.json in the
            host or state folder (cradle host config / cradle device config show them).
            Exit codes: 0 done; 1 failed (backup not committed, files not restored); 2 bad usage or
            a bad setting; 3 refused (a partnership rule, authentication, protocol version); 4 the
            link failed (try again); 5 the host's store is damaged or of a newer format (cradle host
            check names what); 6 a backup was committed but is not whole: partial (something could
            not be read; its earlier version was kept), empty, or most files vanished.
            Completion: cradle "[suggest:N]" "cradle host r" lists what may stand at position N;
            with dotnet-suggest, shells complete cradle's commands and options (see the README).
            """);
        root.Subcommands.Add(HostCommands.Build());
        root.Subcommands.Add(DeviceCommands.Build());
        root.Subcommands.Add(DemoCommand.Build());
        HelpExamples.Apply(root);
        return root;
    }
}
