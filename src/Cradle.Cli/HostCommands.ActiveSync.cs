using System.CommandLine;
using System.Text;
using Cradle.Host;
using Cradle.Protocol;

namespace Cradle.Cli;

/// <summary><c>cradle host activesync-password</c>: the WM5 password the host sends to a locked ActiveSync device.</summary>
internal static partial class HostCommands
{
    /// <summary>The longest password read (Windows Mobile's are far shorter).</summary>
    private const int MaxPasswordChars = 256;

    private static Command ActiveSyncPassword()
    {
        var store = new StoreOptions(packs: false);
        var device = new Argument<string>("DEVICE") { Description = "The ActiveSync device's name (it need not be partnered yet: a locked device is unlocked first)" };
        var clear = new Option<bool>("--clear") { Description = "Remove the stored password" };
        var command = new Command("activesync-password", "Set the password a Windows Mobile 5 device is locked with, for the host to unlock it when it connects. Read from the terminal without echo, or one line from standard input; kept in the host's private database, never shown or logged. A device that refuses it is not tried again until it is unplugged (a device may wipe itself after too many tries)") { device, clear };
        AddAll(command, store.All);
        command.SetAction((result, cancellationToken) => ExitCodes.RunAsync(async () =>
        {
            var name = DeviceName.Parse(result.GetValue(device));
            using var opened = await HostStore.OpenAsync(result, store, cancellationToken).ConfigureAwait(false);
            using var registry = opened.OpenRegistry();
            if (result.GetValue(clear))
            {
                Console.Out.WriteLine(registry.SetActiveSyncPassword(name, null)
                    ? $"the ActiveSync password of {name} is removed"
                    : $"there was no ActiveSync password for {name}");
                return ExitCodes.Ok;
            }

            var password = ReadPassword($"ActiveSync password of {name}: ");
            registry.SetActiveSyncPassword(name, password);
            Console.Out.WriteLine($"the ActiveSync password of {name} is stored; it is sent when {name} connects locked");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A password from the terminal (no echo) or one line of standard input; never from the command line, where other users see it.</summary>
    private static string ReadPassword(string prompt)
    {
        string? text;
        if (Console.IsInputRedirected)
        {
            text = Console.In.ReadLine();
        }
        else
        {
            Console.Error.Write(prompt);
            var typed = new StringBuilder();
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                {
                    break;
                }

                if (key.Key == ConsoleKey.Backspace)
                {
                    typed.Length = Math.Max(0, typed.Length - 1);
                }
                else if (!char.IsControl(key.KeyChar) && typed.Length < MaxPasswordChars)
                {
                    typed.Append(key.KeyChar);
                }
            }

            Console.Error.WriteLine();
            text = typed.ToString();
        }

        if (string.IsNullOrEmpty(text))
        {
            throw new ArgumentException("no password given (type it, or give it as one line on standard input; --clear removes a stored one)");
        }

        return text.Length <= MaxPasswordChars ? text : throw new ArgumentException($"a password has at most {MaxPasswordChars} characters");
    }
}
