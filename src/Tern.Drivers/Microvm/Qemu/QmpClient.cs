using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tern.Agent.Protocol.LineProtocol;

namespace Tern.Drivers.Microvm.Qemu;

/// <summary>The QEMU Machine Protocol over the VM's control socket: one JSON object per line each way. Only what the
/// driver uses: the capabilities handshake, commands with a "return" or an "error", and asynchronous events skipped.</summary>
internal sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly Stream _stream;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public static async Task<QmpClient> ConnectAsync(string socketPath, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
            var client = new QmpClient(socket);
            _ = await client.ReadAsync(ct).ConfigureAwait(false); // the greeting
            await client.ExecuteAsync("qmp_capabilities", null, ct).ConfigureAwait(false);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs one command; returns its "return" value (cloned) or throws with QEMU's error description.</summary>
    public async Task<JsonElement> ExecuteAsync(string command, Action<Utf8JsonWriter>? arguments, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("execute", command);
            if (arguments is not null)
            {
                json.WriteStartObject("arguments");
                arguments(json);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        await _stream.WriteAsync(buffer.ToArray(), ct).ConfigureAwait(false);
        while (true)
        {
            using var reply = await ReadAsync(ct).ConfigureAwait(false);
            var root = reply.RootElement;
            if (root.TryGetProperty("return", out var value)) return value.Clone();
            if (root.TryGetProperty("error", out var error))
                throw new InvalidOperationException($"QEMU refused {command}: {(error.TryGetProperty("desc", out var desc) ? desc.GetString() : error.ToString())}");
            // {"event": ...}: not an answer
        }
    }

    /// <summary>Hands QEMU an open descriptor under <paramref name="name"/> (for `migrate fd:NAME`): it rides on a newline,
    /// which QMP's parser skips, and the getfd command that follows picks it up.</summary>
    public async Task PassDescriptorAsync(string name, SafeHandle descriptor, CancellationToken ct)
    {
        DescriptorPassing.Send(_socket, [(int)descriptor.DangerousGetHandle()], (byte)'\n');
        await ExecuteAsync("getfd", a => a.WriteString("fdname", name), ct).ConfigureAwait(false);
    }

    private async Task<JsonDocument> ReadAsync(CancellationToken ct)
    {
        var line = await _reader.ReadLineAsync(ct).ConfigureAwait(false)
            ?? throw new IOException("QEMU closed its control socket");
        return JsonDocument.Parse(line);
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
