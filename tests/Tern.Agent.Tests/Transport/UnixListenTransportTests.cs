using Tern.Drivers.Transport;

namespace Tern.Agent.Tests.Transport;

/// <summary>unix-listen: the agent listens, the host dials (retrying until the socket is there).</summary>
public sealed class UnixListenTransportTests : AgentTransportSuite
{
    protected override async Task<Stream> ConnectAsync(string dir, CancellationToken ct)
    {
        var path = Path.Combine(dir, "agent.sock");
        using var endpoint = AgentEndpoint.DialUnix(path);
        return await WhileRunning(StartAgent("unix-listen:" + path), endpoint.OpenAsync(ct));
    }
}
