using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tern.Drivers.Tests.Sandbox.Egress;

/// <summary>A one-line HTTP server on a given address and a free port, counting the connections it accepted, so a test
/// can show both that an allowed sandbox reached it and that a refused one never did.</summary>
internal sealed class TinyHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private int _accepted;

    public TinyHttpServer(IPAddress address, string body)
    {
        _listener = new TcpListener(address, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = ServeAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
    }

    public int Port { get; }
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task ServeAsync(byte[] response)
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                var buffer = new byte[4096];
                await client.ReceiveAsync(buffer, _stop.Token); // the request line and headers (one read is enough here)
                await client.SendAsync(response, _stop.Token);
                client.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
