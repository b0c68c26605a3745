using System.Net.Sockets;
using Tern.Agent.Protocol.LineProtocol;

namespace Tern.Agent.Persistent;

/// <summary>How a persistent handler's pipes reach the host (docs/hot-path.md, "handoff"): a second connection to the
/// Unix socket the agent dialled, carrying the descriptors (SCM_RIGHTS). Only a Unix-socket transport can carry them:
/// over TCP or virtio-serial the agent keeps relaying.</summary>
internal static class HandoffChannel
{
    private static string? _socketPath;

    public static bool Available => _socketPath is not null;

    /// <summary>Called at start when the agent reached the host by dialling a Unix socket.</summary>
    public static void Configure(string socketPath) => _socketPath = socketPath;

    /// <summary>Sends <paramref name="fds"/> to the host (the caller then closes its copies). Throws on failure.</summary>
    public static void Send(int[] fds)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(_socketPath ?? throw new InvalidOperationException("no handoff channel")));
        // The message (and the descriptors it holds) outlives this end's close: the host accepts the connection and
        // reads it after the Init answer says the handoff happened.
        DescriptorPassing.Send(socket, fds);
    }
}
