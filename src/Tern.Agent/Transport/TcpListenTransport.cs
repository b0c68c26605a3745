using System.Net;
using System.Net.Sockets;

namespace Tern.Agent.Transport;

/// <summary>tcp-listen:IP:PORT — the agent listens and accepts one connection: the host dials into the worker (a pod
/// whose address the host learns from Kubernetes). Whoever connects first is served, so the port must be reachable
/// only by the host (a NetworkPolicy in a cluster). Port 0 takes a free port; the stderr line names it.</summary>
internal sealed class TcpListenTransport(IPEndPoint endpoint) : AgentTransport
{
    public IPEndPoint EndPoint { get; } = endpoint;

    public override Stream Open()
    {
        using var listener = new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // A restarted agent must be able to bind its port again at once, despite connections still in TIME_WAIT.
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (EndPoint.Address.Equals(IPAddress.IPv6Any)) listener.DualMode = true; // [::] takes IPv4 connections too
        listener.Bind(EndPoint);
        listener.Listen(1);
        Console.Error.WriteLine($"tern-agent: listening on tcp-listen:{listener.LocalEndPoint}");
        var connection = listener.Accept();
        // A frame is written whole; Nagle would hold an answer back while an earlier one is unacknowledged.
        connection.NoDelay = true;
        return new NetworkStream(connection, ownsSocket: true);
    }

    public override string ToString() => $"tcp-listen:{EndPoint}";
}
