using Tern.Agent.Protocol;
using Tern.Drivers.Transport;

namespace Tern.Agent.Tests.Transport;

/// <summary>How the real agent binary reads its transport setting at start.</summary>
public sealed class TransportSettingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("carrier-pigeon:/dev/coop")]
    [InlineData("unix:relative/agent.sock")]
    [InlineData("serial:")]
    [InlineData("tcp:no-port")]
    [InlineData("tcp:host:99999")]
    [InlineData("tcp-listen:not-an-ip:7070")]
    [InlineData("tcp\nlisten:0.0.0.0:7070")]
    public async Task ABadSetting_ExitsWithUsageError_AndOneLine(string setting)
    {
        await using var agent = AgentProcess.Start(setting);
        Assert.Equal(64, await agent.WaitForExitAsync(Patience));
        var line = Assert.Single(agent.StderrLines);
        Assert.StartsWith("tern-agent: TERN_AGENT_TRANSPORT=", line);
    }

    [Fact]
    public async Task AHostThatIsNotThere_ExitsUnavailable_AndOneLine()
    {
        await using var agent = AgentProcess.Start("unix:/tmp/tern-no-such-dir/agent.sock");
        Assert.Equal(69, await agent.WaitForExitAsync(Patience));
        Assert.StartsWith("tern-agent: cannot reach the host over unix:/tmp/tern-no-such-dir/agent.sock: ", Assert.Single(agent.StderrLines));
    }

    [Fact]
    public async Task OnlyTheSocketVariable_DialsThatSocket_AsBeforeTransportsWereSelectable()
    {
        var dir = Path.Combine("/tmp", "tern-tt-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            using var endpoint = AgentEndpoint.ListenUnix(Path.Combine(dir, "agent.sock"));
            await using var agent = AgentProcess.Start(new Dictionary<string, string> { ["TERN_AGENT_SOCKET"] = endpoint.Path });
            using var timeout = new CancellationTokenSource(Patience);
            await using var client = new AgentClient(await endpoint.OpenAsync(timeout.Token));
            Assert.Equal("success", (await client.PingAsync(Patience, timeout.Token)).Status);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
