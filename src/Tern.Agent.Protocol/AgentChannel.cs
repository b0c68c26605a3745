using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace Tern.Agent.Protocol;

/// <summary>Frames over any byte stream: a 4-byte big-endian length, then that many bytes of JSON.
/// The same bytes travel over a Unix socket, virtio-serial or TCP. One reader at a time; writers take a lock.
/// The host uses the async methods; the agent the blocking ones (Read, Write) on threads of its own, which on a
/// paravirtual machine cost far less than the thread pool's wake-ups and spinning (docs/hot-path.md).</summary>
public sealed class AgentChannel(Stream stream, int maxFrameBytes = AgentChannel.DefaultMaxFrameBytes) : IAsyncDisposable, IDisposable
{
    private int _maxFrameBytes = maxFrameBytes;

    /// <summary>6 MiB of payload plus room for the envelope around a maximal event.</summary>
    public const int DefaultMaxFrameBytes = 6 * 1024 * 1024 + 64 * 1024;

    /// <summary>A write buffer grown past this by one large frame is dropped afterwards, not kept per worker.</summary>
    private const int KeptBufferBytes = 64 * 1024;

    private readonly FrameBuffer _read = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private ArrayBufferWriter<byte> _frame = new(1024);
    private readonly Utf8JsonWriter _json = new(Stream.Null);

    /// <summary>Settable so the agent can adopt the limit the host sends in Init.</summary>
    public int MaxFrameBytes
    {
        get => Volatile.Read(ref _maxFrameBytes);
        set => Volatile.Write(ref _maxFrameBytes, value > 0 ? value : DefaultMaxFrameBytes);
    }

    /// <summary>Serializes and sends one message. Throws FrameTooLargeException before writing anything if it is too big.</summary>
    public async ValueTask WriteAsync(AgentMessage message, CancellationToken ct = default)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var frame = EncodeLocked(message);
            await stream.WriteAsync(frame, ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            ReleaseLocked();
        }
    }

    /// <summary>As WriteAsync, blocking the calling thread (the agent's own threads).</summary>
    public void Write(AgentMessage message)
    {
        _writeLock.Wait();
        try
        {
            var frame = EncodeLocked(message);
            stream.Write(frame.Span);
            stream.Flush();
        }
        finally
        {
            ReleaseLocked();
        }
    }

    /// <summary>Reads one message; null at a clean end of stream.</summary>
    public async ValueTask<AgentMessage?> ReadAsync(CancellationToken ct = default)
    {
        while (true)
        {
            if (_read.TryTake(MaxFrameBytes, out var message)) return message;
            if (!_read.Filled(await stream.ReadAsync(_read.Space(), ct).ConfigureAwait(false))) return null;
        }
    }

    /// <summary>As ReadAsync, blocking the calling thread.</summary>
    public AgentMessage? Read()
    {
        while (true)
        {
            if (_read.TryTake(MaxFrameBytes, out var message)) return message;
            if (!_read.Filled(stream.Read(_read.Space().Span))) return null;
        }
    }

    /// <summary>Encodes into the shared buffer (under the write lock) and returns the whole frame, header included.</summary>
    private ReadOnlyMemory<byte> EncodeLocked(AgentMessage message)
    {
        _frame.ResetWrittenCount();
        _frame.GetSpan(4);
        _frame.Advance(4); // room for the length, filled in below
        _json.Reset(_frame);
        AgentFrameCodec.Encode(_json, message);
        var payload = _frame.WrittenCount - 4;
        if (payload > MaxFrameBytes) throw new FrameTooLargeException(payload, MaxFrameBytes);
        BinaryPrimitives.WriteInt32BigEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(_frame.WrittenMemory).Span, payload);
        return _frame.WrittenMemory;
    }

    private void ReleaseLocked()
    {
        if (_frame.Capacity > KeptBufferBytes) _frame = new ArrayBufferWriter<byte>(1024);
        _writeLock.Release();
    }

    public ValueTask DisposeAsync()
    {
        _writeLock.Dispose();
        _json.Dispose();
        return stream.DisposeAsync();
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        _json.Dispose();
        stream.Dispose();
    }
}
