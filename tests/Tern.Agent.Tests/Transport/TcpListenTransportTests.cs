using Tern.Drivers.Transport;

namespace Tern.Agent.Tests.Transport;

/// <summary>tcp-listen: the agent listens (on a free port it names on stderr), the host dials in, as into a pod.</summary>
public sealed class TcpListenTransportTests : AgentTransportSuite
{
    protected override async Task<Stream> ConnectAsync(string dir, CancellationToken ct)
    {
        var agent = StartAgent("tcp-listen:127.0.0.1:0");
        var line = await agent.WaitForStderrAsync("tern-agent: listening on tcp-listen:", Patience);
        var port = int.Parse(line[(line.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        using var endpoint = AgentEndpoint.DialTcp("127.0.0.1", port);
        return await WhileRunning(agent, endpoint.OpenAsync(ct));
    }
}
