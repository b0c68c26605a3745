using System.Net.Sockets;

namespace Tern.Drivers.Transport;

/// <summary>Dials a Unix socket: an agent listening on it (agent: <c>unix-listen:</c>), or the host end of a microVM's
/// virtio-serial port that the hypervisor listens on (agent: <c>serial:</c>). Retries until it connects.</summary>
internal sealed class UnixDialEndpoint(string path) : AgentEndpoint
{
    public override async Task<Stream> OpenAsync(CancellationToken ct)
    {
        var endpoint = new UnixDomainSocketEndPoint(path);
        var socket = await DialAsync(() => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified),
            (s, token) => s.ConnectAsync(endpoint, token), ct).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }
}
