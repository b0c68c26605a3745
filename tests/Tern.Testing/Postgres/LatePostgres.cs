using System.Net;
using System.Net.Sockets;

namespace Tern.Testing.Postgres;

/// <summary>A Postgres that starts answering later: a port nothing listens on until <see cref="Open"/>, which forwards
/// every connection on it to the real test cluster byte for byte. For the daemon's wait for a store that is down at start.</summary>
public sealed class LatePostgres : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;

    public LatePostgres(int targetPort)
    {
        _targetPort = targetPort;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The port the store will answer on; refused until <see cref="Open"/>.</summary>
    public int Port { get; }

    public void Open()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _ = AcceptAsync(_listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                var up = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
                var down = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
                await Task.WhenAny(up, down); // either side closing ends the connection
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Stop();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
