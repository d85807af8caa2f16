using Cradle.ActiveSync.Wire;
using Cradle.Protocol;

namespace Cradle.ActiveSync.Dccm;

/// <summary>What the host does on the control connection once the device is connected.</summary>
public sealed partial class DccmControlChannel
{
    private async Task ReadControlAsync(KeepaliveState keepalive, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                // No deadline on this read: a quiet device is a healthy one; the keepalive and the
                // socket closing are what notice a cable pulled.
                var word = await ReadU32Async(Timeout.InfiniteTimeSpan, "a control word", cancellationToken).ConfigureAwait(false);
                if (word == DccmMessages.DevicePong)
                {
                    keepalive.Answered();
                }
                else
                {
                    ActiveSyncLog.UnknownControlWord(_logger, Label, $"{word} (0x{word:X8})");
                }
            }
        }
        catch (LinkClosedException e)
        {
            Close(e.Message);
        }
    }

    private async Task KeepAliveAsync(KeepaliveState keepalive, CancellationToken cancellationToken)
    {
        var warned = false;
        while (true)
        {
            await Task.Delay(_options.KeepaliveInterval, _options.Time, cancellationToken).ConfigureAwait(false);
            var missed = keepalive.Ping();
            if (missed >= _options.KeepaliveMisses)
            {
                if (keepalive.EverAnswered)
                {
                    Close($"the device stopped answering keepalives ({missed} in a row; cable out, or the device went to sleep)");
                    return;
                }

                if (!warned)
                {
                    ActiveSyncLog.KeepaliveNeverAnswered(_logger, Label);
                    warned = true;
                }
            }

            try
            {
                await WriteAsync(DccmMessages.PingBytes(), "a keepalive", cancellationToken).ConfigureAwait(false);
            }
            catch (LinkClosedException e)
            {
                Close(e.Message);
                return;
            }
        }
    }

    private sealed class KeepaliveState
    {
        private int _outstanding;
        private int _everAnswered;

        public bool EverAnswered => Volatile.Read(ref _everAnswered) != 0;

        /// <summary>Counts a ping about to be sent; returns how many before it went unanswered.</summary>
        public int Ping() => Interlocked.Increment(ref _outstanding) - 1;

        public void Answered()
        {
            Volatile.Write(ref _everAnswered, 1);
            Volatile.Write(ref _outstanding, 0);
        }
    }
}
