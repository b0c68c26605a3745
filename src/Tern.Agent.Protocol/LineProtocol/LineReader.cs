namespace Tern.Agent.Protocol.LineProtocol;

/// <summary>Splits a stream into newline-terminated lines with blocking reads into one reused buffer. A returned line
/// is valid until the next call. A line longer than the caller's limit is returned cut (its head) and flagged.</summary>
public sealed class LineReader(Stream source)
{
    private const int ChunkBytes = 64 * 1024;
    /// <summary>A buffer grown past this by one long line is dropped once the line is handed out.</summary>
    private const int KeptBytes = 1024 * 1024;

    private byte[] _buffer = new byte[ChunkBytes];
    private int _start; // first byte not yet returned
    private int _end;   // end of the bytes read so far
    private int _scanned; // bytes after _start already known to hold no newline

    /// <summary>True once the stream has ended and every line was returned.</summary>
    public bool AtEnd { get; private set; }

    /// <summary>The next line without its newline; empty with AtEnd set at the end of the stream (a last line without
    /// a newline is returned first).</summary>
    public ReadOnlySpan<byte> ReadLine(int maxBytes, out bool oversized)
    {
        oversized = false;
        while (true)
        {
            var pending = _buffer.AsSpan(_start + _scanned, _end - _start - _scanned);
            var newline = pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var length = _scanned + newline;
                var line = _buffer.AsSpan(_start, length);
                _start += length + 1;
                _scanned = 0;
                if (length > maxBytes)
                {
                    oversized = true;
                    return line[..Math.Min(length, 1024)];
                }
                return line;
            }
            _scanned = _end - _start;
            if (_scanned > maxBytes)
            {
                oversized = true;
                return _buffer.AsSpan(_start, Math.Min(_scanned, 1024));
            }
            if (!Fill())
            {
                AtEnd = true;
                var rest = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                _scanned = 0;
                return rest;
            }
        }
    }

    /// <summary>Reads more bytes, first moving the unfinished line to the front (or growing the buffer for it).</summary>
    private bool Fill()
    {
        if (_start == _end)
        {
            _start = _end = 0;
            if (_buffer.Length > KeptBytes) _buffer = new byte[ChunkBytes];
        }
        else if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        var n = source.Read(_buffer, _end, _buffer.Length - _end);
        if (n <= 0) return false;
        _end += n;
        return true;
    }
}
