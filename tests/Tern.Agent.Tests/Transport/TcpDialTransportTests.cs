using System.Net;
using Tern.Drivers.Transport;

namespace Tern.Agent.Tests.Transport;

/// <summary>tcp: the host listens, the agent dials out by name (localhost: resolved, as a Service name would be).</summary>
public sealed class TcpDialTransportTests : AgentTransportSuite
{
    protected override async Task<Stream> ConnectAsync(string dir, CancellationToken ct)
    {
        using var endpoint = AgentEndpoint.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
        return await WhileRunning(StartAgent($"tcp:localhost:{endpoint.LocalEndPoint.Port}"), endpoint.OpenAsync(ct));
    }
}
