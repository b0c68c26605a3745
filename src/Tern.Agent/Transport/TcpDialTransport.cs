using System.Net.Sockets;

namespace Tern.Agent.Transport;

/// <summary>tcp:HOST:PORT — the agent connects out to the host (a pod that reaches the daemon through a Service). The
/// host may not be reachable yet when the pod starts (its name not yet resolvable, the port not yet open), so failed
/// attempts are retried, with a growing pause, for <see cref="DialTimeout"/>; then the agent gives up and exits.</summary>
internal sealed class TcpDialTransport(string host, int port) : AgentTransport
{
    public static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(30);
    private const int FirstPauseMs = 50;
    private const int LongestPauseMs = 1000;

    public string Host { get; } = host;
    public int Port { get; } = port;

    public override Stream Open()
    {
        var deadline = Environment.TickCount64 + (long)DialTimeout.TotalMilliseconds;
        var pause = FirstPauseMs;
        while (true)
        {
            // Dual mode: a name may resolve to IPv4 and IPv6 addresses; Connect tries each in turn.
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Connect(Host, Port);
                socket.NoDelay = true; // a frame is written whole; Nagle would only delay it
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException) when (Environment.TickCount64 + pause < deadline)
            {
                socket.Dispose();
                Thread.Sleep(pause);
                pause = Math.Min(pause * 2, LongestPauseMs);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    public override string ToString() => Host.Contains(':') ? $"tcp:[{Host}]:{Port}" : $"tcp:{Host}:{Port}";
}
