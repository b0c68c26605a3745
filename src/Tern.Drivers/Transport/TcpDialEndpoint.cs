using System.Net.Sockets;

namespace Tern.Drivers.Transport;

/// <summary>Dials an agent listening on TCP (agent: <c>tcp-listen:</c>), such as a pod's IP once Kubernetes reports it.
/// Retries until it connects: the pod's address may exist before the agent in it listens.</summary>
internal sealed class TcpDialEndpoint(string host, int port) : AgentEndpoint
{
    public override async Task<Stream> OpenAsync(CancellationToken ct)
    {
        // Dual mode: a name may resolve to IPv4 and IPv6 addresses; ConnectAsync tries each in turn.
        var socket = await DialAsync(() => new Socket(SocketType.Stream, ProtocolType.Tcp),
            (s, token) => s.ConnectAsync(host, port, token), ct).ConfigureAwait(false);
        return TcpStream(socket);
    }
}
