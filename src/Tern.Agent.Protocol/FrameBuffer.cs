using System.Buffers.Binary;

namespace Tern.Agent.Protocol;

/// <summary>The read side of a channel: bytes read from the stream in as few reads as possible (a frame usually
/// arrives in one, header and payload together), cut into frames. Each read is a system call, and on a paravirtual
/// machine every system call has a cost of its own (docs/hot-path.md). An oversize frame is skipped as it arrives.</summary>
internal sealed class FrameBuffer
{
    private const int InitialBytes = 16 * 1024;
    /// <summary>Grown for one large frame, the buffer is let go once it is empty again.</summary>
    private const int KeptBytes = 256 * 1024;

    private byte[] _buffer = new byte[InitialBytes];
    private int _start;
    private int _end;
    private long _skipLeft;   // bytes of an oversize frame still to discard
    private long _skipLength; // that frame's length, for the exception

    private int Available => _end - _start;

    /// <summary>The next frame's message if the buffer holds one whole; throws FrameTooLargeException once an oversize
    /// frame has been skipped entirely.</summary>
    public bool TryTake(int limit, out AgentMessage? message)
    {
        message = null;
        if (_skipLeft > 0)
        {
            var drop = (int)Math.Min(_skipLeft, Available);
            _start += drop;
            _skipLeft -= drop;
            if (_skipLeft > 0) return false;
            Compact();
            throw new FrameTooLargeException(_skipLength, limit);
        }
        if (Available < 4) return false;
        var length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start, 4));
        if (length > limit)
        {
            _start += 4;
            _skipLeft = _skipLength = length;
            return TryTake(limit, out message);
        }
        if (Available < 4 + length) return false;
        var payload = _buffer.AsSpan(_start + 4, (int)length);
        _start += 4 + (int)length;
        try
        {
            message = AgentFrameCodec.Decode(payload);
        }
        finally
        {
            Compact();
        }
        return true;
    }

    /// <summary>Where the next read goes: room for at least the frame being assembled.</summary>
    public Memory<byte> Space()
    {
        var needed = _skipLeft > 0 || Available < 4 ? 4 : 4 + (int)BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start, 4));
        if (_skipLeft > 0) needed = _buffer.Length; // skipping: any amount will do
        if (_buffer.Length - _start < needed)
        {
            var bigger = needed > _buffer.Length ? new byte[Math.Max(needed, _buffer.Length * 2)] : _buffer;
            Buffer.BlockCopy(_buffer, _start, bigger, 0, Available);
            _end = Available;
            _start = 0;
            _buffer = bigger;
        }
        return _buffer.AsMemory(_end);
    }

    /// <summary>Counts bytes a read put into <see cref="Space"/>; false at the end of the stream. Throws if the stream
    /// ended inside a frame.</summary>
    public bool Filled(int count)
    {
        if (count > 0)
        {
            _end += count;
            return true;
        }
        if (Available == 0 && _skipLeft == 0) return false;
        throw new EndOfStreamException(Available < 4 && _skipLeft == 0 ? "agent stream ended inside a frame header" : "agent stream ended inside a frame");
    }

    private void Compact()
    {
        if (_start != _end) return;
        _start = _end = 0;
        if (_buffer.Length > KeptBytes) _buffer = new byte[InitialBytes];
    }
}
