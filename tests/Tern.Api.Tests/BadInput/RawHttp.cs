using System.Net.Sockets;
using System.Text;

namespace Tern.Api.Tests.BadInput;

/// <summary>HTTP/1.1 over a bare socket, for requests HttpClient will not produce (a Content-Length that lies,
/// broken chunking, a NUL in a header). Reads exactly one response.</summary>
public static class RawHttp
{
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, string Body);

    /// <returns>Null when the server closed the connection without answering.</returns>
    public static async Task<Response?> SendAsync(Uri server, byte[] request, bool halfClose, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cts.Token);
            if (halfClose) client.Client.Shutdown(SocketShutdown.Send);
        }
        catch (IOException)
        {
            // The server may answer and close before taking the whole request (an early 413): read what it said.
        }
        var reader = new ResponseReader(stream, cts.Token);
        return await reader.ReadAsync();
    }

    private sealed class ResponseReader(NetworkStream stream, CancellationToken ct)
    {
        private readonly List<byte> _buffer = [];
        private int _position;

        public async Task<Response?> ReadAsync()
        {
            var statusLine = await LineAsync();
            if (statusLine is null) return null;
            var parts = statusLine.Split(' ', 3);
            if (parts.Length < 2 || !int.TryParse(parts[1], out var status)) throw new InvalidDataException($"not a status line: {statusLine}");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (await LineAsync() is { Length: > 0 } line)
            {
                var colon = line.IndexOf(':');
                headers[line[..colon]] = line[(colon + 1)..].Trim();
            }
            byte[] body;
            if (headers.TryGetValue("Content-Length", out var length)) body = await BytesAsync(int.Parse(length));
            else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase)) body = await ChunkedAsync();
            else body = await RestAsync();
            return new Response(status, headers, Encoding.UTF8.GetString(body));
        }

        private async Task<byte[]> ChunkedAsync()
        {
            var body = new List<byte>();
            while (true)
            {
                var size = Convert.ToInt32((await LineAsync() ?? "0").Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while (await LineAsync() is { Length: > 0 }) { } // trailers
                    return [.. body];
                }
                body.AddRange(await BytesAsync(size));
                await LineAsync();
            }
        }

        private async Task<string?> LineAsync()
        {
            while (true)
            {
                for (var i = _position; i + 1 < _buffer.Count; i++)
                    if (_buffer[i] == '\r' && _buffer[i + 1] == '\n')
                    {
                        var line = Encoding.Latin1.GetString(_buffer.GetRange(_position, i - _position).ToArray());
                        _position = i + 2;
                        return line;
                    }
                if (!await FillAsync()) return _position < _buffer.Count ? throw new InvalidDataException("response cut short") : null;
            }
        }

        private async Task<byte[]> BytesAsync(int count)
        {
            while (_buffer.Count - _position < count)
                if (!await FillAsync()) throw new InvalidDataException("response body cut short");
            var bytes = _buffer.GetRange(_position, count).ToArray();
            _position += count;
            return bytes;
        }

        private async Task<byte[]> RestAsync()
        {
            while (await FillAsync()) { }
            var bytes = _buffer.GetRange(_position, _buffer.Count - _position).ToArray();
            _position = _buffer.Count;
            return bytes;
        }

        private async Task<bool> FillAsync()
        {
            var chunk = new byte[16 * 1024];
            int read;
            try
            {
                read = await stream.ReadAsync(chunk, ct);
            }
            catch (IOException)
            {
                read = 0; // reset by the server: the same as a close here
            }
            _buffer.AddRange(chunk.AsSpan(0, read));
            return read > 0;
        }
    }
}
