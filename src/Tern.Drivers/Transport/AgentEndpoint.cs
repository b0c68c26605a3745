using System.Net;
using System.Net.Sockets;

namespace Tern.Drivers.Transport;

/// <summary>The host's end of an agent transport: how a driver obtains the byte stream to one worker's agent, whichever
/// side listens. A listening endpoint is bound when it is created, so the worker can be started afterwards and connect
/// at any time; a dialing endpoint retries until the agent is listening. Either way the wait is bounded by the token
/// (a driver links its start timeout and the worker's exit to it). Each endpoint yields one stream.
/// <para>Pairs with the agent's TERN_AGENT_TRANSPORT (docs/agent-protocol.md): <see cref="ListenUnix"/> for
/// <c>unix:</c>, <see cref="DialUnix"/> for <c>unix-listen:</c> and for <c>serial:</c> (the hypervisor exposes the
/// port's host end as a Unix socket), <see cref="DialTcp"/> for <c>tcp-listen:</c>, <see cref="ListenTcp"/> for
/// <c>tcp:</c>.</para></summary>
public abstract class AgentEndpoint : IDisposable
{
    private static readonly TimeSpan FirstDialPause = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan LongestDialPause = TimeSpan.FromMilliseconds(500);

    /// <summary>Binds and listens at <paramref name="path"/> now; the agent dials it.</summary>
    public static UnixListenEndpoint ListenUnix(string path) => new(path);

    /// <summary>Dials the socket at <paramref name="path"/>: an agent's own (unix-listen) or a hypervisor's serial port.</summary>
    public static AgentEndpoint DialUnix(string path) => new UnixDialEndpoint(path);

    /// <summary>Binds and listens on <paramref name="endpoint"/> now (port 0: a free one, see
    /// <see cref="TcpListenEndpoint.LocalEndPoint"/>); the agent dials it.</summary>
    public static TcpListenEndpoint ListenTcp(IPEndPoint endpoint) => new(endpoint);

    /// <summary>Dials an agent listening on <paramref name="host"/>:<paramref name="port"/> (a name or an address).</summary>
    public static AgentEndpoint DialTcp(string host, int port) => new TcpDialEndpoint(host, port);

    /// <summary>Waits for the agent's connection, or connects to the agent. The stream owns its socket.</summary>
    public abstract Task<Stream> OpenAsync(CancellationToken ct);

    public virtual void Dispose() { }

    /// <summary>Connects with <paramref name="create"/>'s socket, again and again with a growing pause, until it works or
    /// <paramref name="ct"/> ends: an agent that is still starting refuses (or has no socket file yet), and that is
    /// no reason to give up.</summary>
    private protected static async Task<Socket> DialAsync(Func<Socket> create, Func<Socket, CancellationToken, ValueTask> connect,
        CancellationToken ct)
    {
        var pause = FirstDialPause;
        while (true)
        {
            var socket = create();
            try
            {
                await connect(socket, ct).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await Task.Delay(pause, ct).ConfigureAwait(false);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestDialPause.Ticks));
        }
    }

    /// <summary>Frames are written whole; Nagle would hold one back while an earlier one is unacknowledged.</summary>
    private protected static Stream TcpStream(Socket socket)
    {
        socket.NoDelay = true;
        return new NetworkStream(socket, ownsSocket: true);
    }
}
