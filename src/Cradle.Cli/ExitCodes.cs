using Cradle.Protocol;
using Cradle.Store;

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
    /// Runs a command body; a known error becomes one clear line on stderr and its exit code.
    /// Errors that can carry the other side's words (refusals, link and protocol errors) pass the
    /// wire-text sanitiser on their way to the terminal.
    /// </summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (SessionRefusedException e)
        {
            await Console.Error.WriteLineAsync($"refused ({WireText.Clean(e.Rule)}): {WireText.Clean(e.Message)}").ConfigureAwait(false);
            return Refused;
        }
        catch (LinkClosedException e)
        {
            await Console.Error.WriteLineAsync($"link failed: {WireText.Clean(e.Message)}").ConfigureAwait(false);
            return LinkFailed;
        }
        catch (StoreCorruptException e)
        {
            await Console.Error.WriteLineAsync($"the store is damaged: {e.Message} ('cradle host check --read-data' lists what it affects)").ConfigureAwait(false);
            return StoreDamaged;
        }
        catch (Exception e) when (StoreCorruptException.IsDamagedCatalog(e))
        {
            await Console.Error.WriteLineAsync($"the store is damaged: its catalog (cradle.db) cannot be read ({e.Message})").ConfigureAwait(false);
            return StoreDamaged;
        }
        catch (StoreFormatException e)
        {
            await Console.Error.WriteLineAsync($"the store cannot be read: {e.Message}").ConfigureAwait(false);
            return StoreDamaged;
        }
        catch (ProtocolViolationException e)
        {
            await Console.Error.WriteLineAsync($"protocol error: {WireText.Clean(e.Message)}").ConfigureAwait(false);
            return Failed;
        }
        catch (CradleException e) when (e.IsTransient)
        {
            await Console.Error.WriteLineAsync($"error (try again): {WireText.Clean(e.Message)}").ConfigureAwait(false);
            return LinkFailed;
        }
        catch (CradleException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return Failed;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}").ConfigureAwait(false);
            return Usage;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled").ConfigureAwait(false);
            return Failed;
        }
    }
}
