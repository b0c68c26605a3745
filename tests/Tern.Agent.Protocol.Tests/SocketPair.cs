using System.Net.Sockets;

namespace Tern.Agent.Protocol.Tests;

/// <summary>Two connected ends of a real Unix domain socket, as the host and the agent see them.</summary>
internal sealed class SocketPair : IAsyncDisposable
{
    private readonly string _dir;

    private SocketPair(string dir, Socket host, Socket agent)
    {
        _dir = dir;
        HostSocket = host;
        AgentSocket = agent;
        Host = new NetworkStream(host, ownsSocket: true);
        Agent = new NetworkStream(agent, ownsSocket: true);
    }

    public Socket HostSocket { get; }
    public Socket AgentSocket { get; }
    public NetworkStream Host { get; }
    public NetworkStream Agent { get; }

    public static async Task<SocketPair> CreateAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tern-test-" + Guid.NewGuid());
        Directory.CreateDirectory(dir);
        var endpoint = new UnixDomainSocketEndPoint(Path.Combine(dir, "agent.sock"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(1);
        var host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accepted = listener.AcceptAsync();
        await host.ConnectAsync(endpoint);
        var agent = await accepted;
        return new SocketPair(dir, host, agent);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Agent.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
