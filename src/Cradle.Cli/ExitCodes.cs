using Cradle.Content;
#if !CRADLE_DEVICE_ONLY
using Cradle.Host;
#endif
using Cradle.Protocol;

namespace Cradle.Cli;

/// <summary>Exit codes and the one place that turns exceptions into a message and a code.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Refused = 3;
    public const int LinkFailed = 4;

    /// <summary>The host's store is damaged or of a format this build cannot read: retrying will not help, a person must look (<c>cradle host check</c>).</summary>
    public const int StoreDamaged = 5;

    /// <summary>
    /// A backup was committed but is not a whole picture of the device: partial (something could
    /// not be read; its earlier version stands in), empty, or most files vanished. The output says what.
    /// </summary>
    public const int Incomplete = 6;

    /// <summary>Runs a command body; a known error becomes one clear line on stderr (or a JSON object, with --json) and its exit code.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (SessionRefusedException e) when (!e.IsTransient)
        {
            // The rule id (P5, auth, version) is for scripts and the logs; a person reads the reason.
            return CliErrors.Write(Refused, "refused", "refused", e.Message, e.Rule);
        }
        catch (NotACradleHostException e)
        {
            return CliErrors.Write(Failed, "failed", "error", e.Message);
        }
        catch (LinkClosedException e)
        {
            return CliErrors.Write(LinkFailed, "link", "link failed", e.Message);
        }
#if !CRADLE_DEVICE_ONLY
        catch (Exception e) when (StoreErrors.IsCorrupt(e))
        {
            return CliErrors.Write(StoreDamaged, "store", "the store is damaged", $"{e.Message} ('cradle host check --read-data' lists what it affects)");
        }
        catch (Exception e) when (StoreErrors.IsDamagedCatalog(e))
        {
            return CliErrors.Write(StoreDamaged, "store", "the store is damaged", $"its catalog (cradle.db) cannot be read ({e.Message})");
        }
#endif
        catch (StoreFormatException e)
        {
            return CliErrors.Write(StoreDamaged, "store", "the store cannot be read", e.Message);
        }
        catch (CradleProtocolException e)
        {
            return CliErrors.Write(Failed, "protocol", "protocol error", e.Message);
        }
        catch (CradleException e) when (e.IsTransient)
        {
            return CliErrors.Write(LinkFailed, "transient", "error (try again)", e.Message);
        }
        catch (CradleException e)
        {
            return CliErrors.Write(Failed, "failed", "error", e.Message);
        }
#if !CRADLE_DEVICE_ONLY
        catch (UnknownDeviceException e)
        {
            return CliErrors.Write(Usage, "usage", "error", e.Message);
        }
#endif
        catch (ArgumentException e)
        {
            return CliErrors.Write(Usage, "usage", "error", e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder that cannot be made or read, a file in the way: the system's message names it.
            return CliErrors.Write(Failed, "failed", "error", e.Message);
        }
        catch (OperationCanceledException)
        {
            return CliErrors.Write(Failed, "cancelled", "error", "cancelled");
        }
    }
}
