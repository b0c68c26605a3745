using Tern.Drivers.Transport;

namespace Tern.Agent.Tests.Transport;

/// <summary>unix: the host listens, the agent dials (what the sandbox driver does).</summary>
public sealed class UnixDialTransportTests : AgentTransportSuite
{
    protected override async Task<Stream> ConnectAsync(string dir, CancellationToken ct)
    {
        using var endpoint = AgentEndpoint.ListenUnix(Path.Combine(dir, "agent.sock"));
        return await WhileRunning(StartAgent("unix:" + endpoint.Path), endpoint.OpenAsync(ct));
    }
}
