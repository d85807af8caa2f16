using System.Net.Sockets;
using Cradle.Protocol;

namespace Cradle.Links;

/// <summary>The network link: a TCP connection, with Nagle off and TCP keepalive on.</summary>
public static class TcpLink
{
    public static async Task<Stream> ConnectAsync(LinkAddress address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await client.ConnectAsync(address.Host, address.Port, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new LinkClosedException($"no answer from {address} within {timeout.TotalSeconds:0} s");
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new LinkClosedException($"cannot reach a host at {address}: {e.Message}", e);
        }

        Configure(client.Client);
        return client.GetStream();
    }

    /// <summary>Socket settings for both ends of a session.</summary>
    public static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
    }
}
