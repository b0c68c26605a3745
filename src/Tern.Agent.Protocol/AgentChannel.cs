using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace Tern.Agent.Protocol;

/// <summary>Frames over any byte stream: a 4-byte big-endian length, then that many bytes of JSON.
/// The same bytes travel over a Unix socket, virtio-serial or TCP. One reader and one writer at a time.</summary>
public sealed class AgentChannel(Stream stream, int maxFrameBytes = AgentChannel.DefaultMaxFrameBytes) : IAsyncDisposable
{
    private int _maxFrameBytes = maxFrameBytes;

    /// <summary>6 MiB of payload plus room for the envelope around a maximal event.</summary>
    public const int DefaultMaxFrameBytes = 6 * 1024 * 1024 + 64 * 1024;

    private readonly byte[] _header = new byte[4];
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    /// <summary>Settable so the agent can adopt the limit the host sends in Init.</summary>
    public int MaxFrameBytes
    {
        get => Volatile.Read(ref _maxFrameBytes);
        set => Volatile.Write(ref _maxFrameBytes, value > 0 ? value : DefaultMaxFrameBytes);
    }

    /// <summary>Serializes and sends one message. Throws FrameTooLargeException before writing anything if it is too big.</summary>
    public async ValueTask WriteAsync(AgentMessage message, CancellationToken ct = default)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.GetSpan(4);
        buffer.Advance(4); // room for the length, filled in below
        using (var json = new Utf8JsonWriter(buffer))
            JsonSerializer.Serialize(json, message, AgentJsonContext.Default.AgentMessage);
        var payload = buffer.WrittenCount - 4;
        if (payload > MaxFrameBytes) throw new FrameTooLargeException(payload, MaxFrameBytes);
        var frame = buffer.WrittenMemory;
        BinaryPrimitives.WriteInt32BigEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(frame).Span, payload);

        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(frame, ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Reads one message; null at a clean end of stream.</summary>
    public async ValueTask<AgentMessage?> ReadAsync(CancellationToken ct = default)
    {
        if (!await ReadExactlyOrEndAsync(_header, ct).ConfigureAwait(false)) return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(_header);
        var limit = MaxFrameBytes;
        if (length > limit)
        {
            await SkipAsync(length, ct).ConfigureAwait(false);
            throw new FrameTooLargeException(length, limit);
        }
        var payload = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await stream.ReadExactlyAsync(payload.AsMemory(0, (int)length), ct).ConfigureAwait(false);
            return JsonSerializer.Deserialize(payload.AsSpan(0, (int)length), AgentJsonContext.Default.AgentMessage)
                ?? throw new InvalidDataException("empty agent frame");
        }
        finally { ArrayPool<byte>.Shared.Return(payload); }
    }

    private async ValueTask<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken ct)
    {
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        if (read == 0) return false;
        if (read < buffer.Length) throw new EndOfStreamException("agent stream ended inside a frame header");
        return true;
    }

    private async ValueTask SkipAsync(long length, CancellationToken ct)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (length > 0)
            {
                var n = await stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, length)), ct).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException("agent stream ended inside an oversize frame");
                length -= n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(scratch); }
    }

    public ValueTask DisposeAsync()
    {
        _writeLock.Dispose();
        return stream.DisposeAsync();
    }
}
