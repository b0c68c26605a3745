using System.Net;
using System.Net.Sockets;

namespace Tern.Drivers.Transport;

/// <summary>Listens on TCP for an agent that dials out (agent: <c>tcp:</c>), such as a pod reaching the daemon through a
/// Service. The first connection is taken as the agent's: the driver must make sure only its worker can reach the port.</summary>
public sealed class TcpListenEndpoint : AgentEndpoint
{
    private readonly Socket _listener;

    internal TcpListenEndpoint(IPEndPoint endpoint)
    {
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any)) _listener.DualMode = true; // [::] takes IPv4 connections too
            _listener.Bind(endpoint);
            _listener.Listen(1);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    /// <summary>Where the agent must dial: the bound address, with the port chosen when 0 was asked for.</summary>
    public IPEndPoint LocalEndPoint { get; }

    public override async Task<Stream> OpenAsync(CancellationToken ct) =>
        TcpStream(await _listener.AcceptAsync(ct).ConfigureAwait(false));

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }
}
