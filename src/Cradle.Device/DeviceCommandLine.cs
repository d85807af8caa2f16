namespace Cradle.Device;

/// <summary>
/// The words a user types for the device's commands, for the messages that tell them what to run
/// next: <c>cradle device</c> in the all-in-one, <c>cradle-device</c> in the agent on its own (both
/// ship, and a handheld's user has only the second). The executable names itself once, at start,
/// before any command runs; the default is the all-in-one's.
/// </summary>
public static class DeviceCommandLine
{
    /// <summary>What the all-in-one's user types before a device command's name.</summary>
    public const string AllInOne = "cradle device";

    private static string s_prefix = AllInOne;

    /// <summary>The words before a device command's name, as this executable is run.</summary>
    public static string Prefix => Volatile.Read(ref s_prefix);

    /// <summary>Names this executable's device commands (called by its entry point).</summary>
    public static void Use(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        Volatile.Write(ref s_prefix, prefix);
    }

    /// <summary>The command line of the device command <paramref name="command"/> (its name and arguments).</summary>
    public static string Of(string command) => $"{Prefix} {command}";
}
