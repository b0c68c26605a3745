using System.Net.Sockets;

namespace Tern.Agent.Transport;

/// <summary>unix:PATH — the agent connects to a socket the host is already listening on (the sandbox driver binds it
/// before starting the worker, so there is nothing to retry). The stream is the same NetworkStream as before
/// transports were selectable: the hot path is unchanged.</summary>
internal sealed class UnixDialTransport(string path) : AgentTransport
{
    public string Path { get; } = path;

    public override Stream Open()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(Path));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new NetworkStream(socket, ownsSocket: true);
    }

    public override string ToString() => "unix:" + Path;
}
