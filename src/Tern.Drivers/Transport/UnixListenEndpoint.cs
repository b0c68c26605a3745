using System.Net.Sockets;

namespace Tern.Drivers.Transport;

/// <summary>Listens on a Unix socket the agent dials (agent: <c>unix:</c>). The socket file is removed on Dispose.
/// Who may connect is the file's mode and its directory's: the driver sets them (as the sandbox driver does).</summary>
public sealed class UnixListenEndpoint : AgentEndpoint
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    internal UnixListenEndpoint(string path)
    {
        Path = path;
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(1);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    public string Path { get; }

    public override async Task<Stream> OpenAsync(CancellationToken ct) =>
        new NetworkStream(await _listener.AcceptAsync(ct).ConfigureAwait(false), ownsSocket: true);

    public override void Dispose()
    {
        _listener.Dispose();
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        base.Dispose();
    }
}
