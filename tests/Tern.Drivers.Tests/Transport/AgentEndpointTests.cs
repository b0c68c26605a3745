using System.Net;
using System.Net.Sockets;
using Tern.Drivers.Transport;

namespace Tern.Drivers.Tests.Transport;

/// <summary>The host's ends of the agent transports on their own; the protocol over each, against the real agent, is
/// tests/Tern.Agent.Tests/Transport.</summary>
public sealed class AgentEndpointTests : IDisposable
{
    private readonly string _dir = Path.Combine("/tmp", "tern-ep-" + Guid.NewGuid().ToString("N")[..8]);

    public AgentEndpointTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task DialUnix_KeepsTrying_UntilTheAgentListens()
    {
        var path = Path.Combine(_dir, "agent.sock");
        using var endpoint = AgentEndpoint.DialUnix(path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var open = endpoint.OpenAsync(timeout.Token);
        await Task.Delay(200); // no socket file yet: the dial must not give up

        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var agentSide = await listener.AcceptAsync(timeout.Token);
        await using var stream = await open;
        await stream.WriteAsync("x"u8.ToArray(), timeout.Token);
        var received = new byte[1];
        Assert.Equal(1, await agentSide.ReceiveAsync(received, timeout.Token));
    }

    [Fact]
    public async Task DialTcp_WithNobodyListening_EndsWhenTheTokenDoes()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port; // closed again: nothing listens there
        }
        using var endpoint = AgentEndpoint.DialTcp("127.0.0.1", port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => endpoint.OpenAsync(timeout.Token));
    }

    [Fact]
    public async Task ListenTcp_OnPortZero_NamesTheChosenPort_AndTakesTheConnection()
    {
        using var endpoint = AgentEndpoint.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
        Assert.NotEqual(0, endpoint.LocalEndPoint.Port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var open = endpoint.OpenAsync(timeout.Token);
        using var agentSide = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await agentSide.ConnectAsync(endpoint.LocalEndPoint, timeout.Token);
        await using var stream = await open;
        Assert.True(Assert.IsType<NetworkStream>(stream).Socket.NoDelay);
    }

    [Fact]
    public void ListenUnix_Dispose_RemovesTheSocketFile()
    {
        var path = Path.Combine(_dir, "agent.sock");
        using (AgentEndpoint.ListenUnix(path)) Assert.True(File.Exists(path));
        Assert.False(File.Exists(path));
    }
}
