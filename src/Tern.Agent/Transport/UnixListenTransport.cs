using System.Net.Sockets;

namespace Tern.Agent.Transport;

/// <summary>unix-listen:PATH — the agent binds the socket and accepts one connection from the host (for example a
/// socket in a volume a pod shares with a host-side helper). Only the first connection is served.</summary>
internal sealed class UnixListenTransport(string path) : AgentTransport
{
    public string Path { get; } = path;

    public override Stream Open()
    {
        // A socket file left by an agent that ran here before would make the bind fail; the path is the agent's own.
        if (File.Exists(Path)) File.Delete(Path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(Path));
        listener.Listen(1);
        Console.Error.WriteLine($"tern-agent: listening on {this}");
        var connection = listener.Accept();
        // Nobody else may reach this agent: with the listener closed, the file would only mislead the next dialer.
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return new NetworkStream(connection, ownsSocket: true);
    }

    public override string ToString() => "unix-listen:" + Path;
}
