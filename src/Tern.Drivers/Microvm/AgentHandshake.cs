using System.Net.Sockets;
using Tern.Agent.Protocol;

namespace Tern.Drivers.Microvm;

/// <summary>Tells when a VM's agent is up: connect to the virtio-serial port's host socket and Ping until it answers.
/// Pings are repeated because bytes that reach the guest before the agent has opened its port are discarded by the
/// guest's virtio_console driver; once one is answered a last Ping is sent and awaited, so the answers to any earlier
/// Pings (the agent answers in order) are read here and never reach the pool's client.</summary>
internal static class AgentHandshake
{
    private static readonly TimeSpan PingInterval = TimeSpan.FromMilliseconds(500);

    public static async Task<Socket> ConnectAsync(string socketPath, Task vmExited, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (vmExited.IsCompleted) throw new IOException("the VM exited");
            if (File.Exists(socketPath))
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    return socket;
                }
                catch (SocketException)
                {
                    socket.Dispose(); // created but not listening yet
                }
            }
            await Task.Delay(5, ct).ConfigureAwait(false);
        }
    }

    public static async Task PingAsync(Socket socket, Task vmExited, CancellationToken ct)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await using var channel = new AgentChannel(stream);
        var read = channel.ReadAsync(ct).AsTask();
        for (var n = 0; !read.IsCompleted; n++)
        {
            await channel.WriteAsync(new PingMessage { RequestId = "boot-" + n }, ct).ConfigureAwait(false);
            await Task.WhenAny(read, vmExited, Task.Delay(PingInterval, ct)).ConfigureAwait(false);
            if (vmExited.IsCompleted && !read.IsCompleted) throw new IOException("the VM exited");
            ct.ThrowIfCancellationRequested();
        }
        _ = await read.ConfigureAwait(false) ?? throw new IOException("the agent closed its channel");
        await channel.WriteAsync(new PingMessage { RequestId = "boot-last" }, ct).ConfigureAwait(false);
        while (await channel.ReadAsync(ct).ConfigureAwait(false) is { } message)
            if (message is RespMessage { RequestId: "boot-last" }) return;
        throw new IOException("the agent closed its channel");
    }
}
